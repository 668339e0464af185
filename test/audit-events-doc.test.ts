/**
 * docs/audit-events.md is the application team's contract for audit events. What the services
 * write from it is what the collector routes and the ruler's rules read, so the page is held here
 * to charts/logging/log-streams.ts (the one definition of those keys and values), and its claims
 * about the gateway to what the project deploys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { AUDIT_ACTIONS, AUDIT_EVENT_FIELDS, AUDIT_OUTCOMES, LOG_FIELDS, LOG_LEVELS, type LogTypeName } from '../charts/logging/log-streams';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { argocdObjects, synthObjects } from '../pipeline/synth';

const root = process.cwd();
const DOC_PATH = 'docs/audit-events.md';
const DOC = readFileSync(join(root, DOC_PATH), 'utf8');
const FIELDS: readonly string[] = Object.values(AUDIT_EVENT_FIELDS);
const AUDIT: LogTypeName = 'audit';

/** The fenced blocks of the page, with their info string. */
const FENCES = [...DOC.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], body: m[2] }));

/** Every line of a fence that is a JSON object: the example lines, as a service writes them. */
const EXAMPLE_LINES = FENCES.flatMap((f) => f.body.split('\n')).map((l) => l.trim()).filter((l) => l.startsWith('{'));

/** A line parsed, failing with the line itself when it is not one JSON object. */
function parseLine(line: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw new Error(`not JSON: ${line}`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`not a JSON object: ${line}`);
  return parsed as Record<string, unknown>;
}

/**
 * The address ranges reserved for documentation (RFC 5737, RFC 3849): an example can never be
 * a real person's address.
 */
const DOCUMENTATION_RANGES = new BlockList();
DOCUMENTATION_RANGES.addSubnet('192.0.2.0', 24, 'ipv4');
DOCUMENTATION_RANGES.addSubnet('198.51.100.0', 24, 'ipv4');
DOCUMENTATION_RANGES.addSubnet('203.0.113.0', 24, 'ipv4');
DOCUMENTATION_RANGES.addSubnet('2001:db8::', 32, 'ipv6');

/** RFC 3339 in UTC with milliseconds, and a real instant (no 30 February). */
function isMillisUtc(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
}

test('the helpers reject what the examples must not be', () => {
  // Each check below would pass everything if its helper did: they must fail on a bad value.
  expect(isMillisUtc('2026-03-02T14:05:09.127Z')).toBe(true);
  for (const bad of ['2026-03-02T14:05:09Z', '2026-03-02T14:05:09.127+01:00', '2026-02-30T14:05:09.127Z', '2026-03-02 14:05:09.127Z']) expect(isMillisUtc(bad)).toBe(false);
  expect(DOCUMENTATION_RANGES.check('203.0.113.255', 'ipv4')).toBe(true);
  expect(DOCUMENTATION_RANGES.check('2001:db8:ffff::1', 'ipv6')).toBe(true);
  for (const [address, family] of [['192.0.3.1', 'ipv4'], ['10.0.0.1', 'ipv4'], ['2001:db9::1', 'ipv6']] as const) {
    expect(DOCUMENTATION_RANGES.check(address, family)).toBe(false);
  }
  expect(() => parseLine('{"a":1,}')).toThrow(/not JSON/);
  expect(() => parseLine('[1]')).toThrow(/not a JSON object/);
});

test('it names every field, outcome, action the rules read, and level, as code', () => {
  for (const value of [...FIELDS, ...AUDIT_OUTCOMES, ...Object.values(AUDIT_ACTIONS), ...LOG_LEVELS]) expect(DOC).toContain(`\`${value}\``);
  // The keys the collector reads an ordinary line by, the project's own and the common loggers'.
  for (const key of Object.values(LOG_FIELDS).flat().map((path) => path.join('.'))) expect(DOC).toContain(`\`${key}\``);
});

test('the levels it lists are the collector\'s, all of them and in order', () => {
  const listed = /`level` \(one of ((?:`\w+`(?:, )?)+)\)/.exec(DOC.replace(/\s+/g, ' '));
  expect(listed).not.toBeNull();
  expect([...(listed as RegExpExecArray)[1].matchAll(/`(\w+)`/g)].map((m) => m[1])).toEqual([...LOG_LEVELS]);
});

test('its table has one row per field, in the contract\'s order, each typed and with the first example\'s value', () => {
  const rows = DOC.split('\n').filter((l) => /^\| `[^`]+` \|/.test(l)).map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
  expect(rows.map((r) => r[0])).toEqual(FIELDS.map((f) => `\`${f}\``));
  const first = parseLine(EXAMPLE_LINES[0]);
  for (const [name, type, , example] of rows) {
    expect(['string', 'string or null']).toContain(type);
    expect(example).toBe(`\`${String(first[name.slice(1, -1)])}\``);
  }
});

test('every example line is one JSON object with exactly the fields, each a valid value', () => {
  expect(EXAMPLE_LINES.length).toBeGreaterThanOrEqual(3);
  for (const line of EXAMPLE_LINES) {
    const event = parseLine(line);
    // A key written twice would be hidden by JSON.parse: count them as written.
    expect([...line.matchAll(/"([^"\\]+)"\s*:/g)].map((m) => m[1]).sort()).toEqual([...FIELDS].sort());
    expect(Object.keys(event).sort()).toEqual([...FIELDS].sort());
    for (const field of FIELDS) expect(typeof event[field] === 'string' && event[field] !== '').toBe(true);
    const value = (field: keyof typeof AUDIT_EVENT_FIELDS) => event[AUDIT_EVENT_FIELDS[field]] as string;
    expect(value('logType')).toBe(AUDIT);
    expect(AUDIT_OUTCOMES as readonly string[]).toContain(value('outcome'));
    expect(isMillisUtc(value('timestamp'))).toBe(true);
    // The forms the page gives an actor: an id, never an email or a name.
    expect(value('actor')).toMatch(/^(?:(?:user|service):[a-z0-9][a-z0-9._-]*|anonymous)$/);
    expect(value('action')).toMatch(/^[a-z]+$/);
    // What Envoy generates (a UUID, version 4), as the gateway forwards it.
    expect(value('requestId')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const address = value('sourceAddress');
    const family = isIP(address);
    expect(family).not.toBe(0);
    expect(DOCUMENTATION_RANGES.check(address, family === 4 ? 'ipv4' : 'ipv6')).toBe(true);
  }
});

test('the examples show what the alerts read: a read of a protected record, a failed sign-in, a denied access', () => {
  const events = EXAMPLE_LINES.map(parseLine);
  const envs = resolveEnvironments(environments, root);
  const protectedTypes = new Set(envs.flatMap((env) => env.logging.audit.bulkAccess?.resourceTypes ?? []));
  expect(protectedTypes.size).toBeGreaterThan(0);
  const { action, outcome, resourceType } = AUDIT_EVENT_FIELDS;
  expect(events.some((e) => e[action] === AUDIT_ACTIONS.read && e[outcome] === 'success' && protectedTypes.has(e[resourceType] as string))).toBe(true);
  expect(events.some((e) => e[action] === AUDIT_ACTIONS.login && e[outcome] === 'failure')).toBe(true);
  expect(events.some((e) => e[outcome] === 'denied')).toBe(true);
});

test('its Spring Boot and pino snippets write exactly the fields', () => {
  const java = FENCES.find((f) => f.lang === 'java');
  expect(java).toBeDefined();
  expect([...java!.body.matchAll(/event\.put\("([^"]+)"/g)].map((m) => m[1])).toEqual(FIELDS);
  expect(java!.body).toContain(`event.put("${AUDIT_EVENT_FIELDS.logType}", "${AUDIT}")`);
  // The logger the page tells the team to route to its own appender, and not to rename.
  expect(java!.body).toContain('LoggerFactory.getLogger("AUDIT")');
  expect(FENCES.find((f) => f.lang === 'xml')?.body).toContain('<logger name="AUDIT" level="INFO" additivity="false">');

  const ts = FENCES.find((f) => f.lang === 'ts');
  expect(ts).toBeDefined();
  const call = /audit\.info\(\{\n([\s\S]*?)\n\}\);/.exec(ts!.body);
  expect(call).not.toBeNull();
  const keys = [...(call as RegExpExecArray)[1].matchAll(/^\s*(\w+):/gm)].map((m) => m[1]);
  // pino adds the other two: the timestamp through its `timestamp` option, log_type in place of its level.
  expect(ts!.body).toContain(`\`,"${AUDIT_EVENT_FIELDS.timestamp}":"\${new Date().toISOString()}"\``);
  expect(ts!.body).toContain(`level: () => ({ ${AUDIT_EVENT_FIELDS.logType}: '${AUDIT}' })`);
  expect([AUDIT_EVENT_FIELDS.timestamp, AUDIT_EVENT_FIELDS.logType, ...keys].sort()).toEqual([...FIELDS].sort());
});

test('the configuration it names and the files it points to exist', () => {
  const configuration = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const settings = [...new Set([...DOC.matchAll(/`(logging\.(?:retention|audit)[\w.]*)`/g)].map((m) => m[1]))];
  expect(settings.length).toBeGreaterThan(0);
  for (const setting of settings) expect(configuration).toContain(`| \`${setting}\` |`);
  const files = [...new Set([...DOC.matchAll(/`((?:docs|charts|test)\/[\w./-]+\.(?:md|ts))`/g)].map((m) => m[1]))];
  expect(files).toContain('charts/logging/log-streams.ts');
  for (const file of files) expect(existsSync(join(root, file))).toBe(true);
});

test('what it says of the gateway holds for what is deployed: the release it cites, no policy that changes the request id or the client address', () => {
  const cited = new Set([...DOC.matchAll(/github\.com\/envoyproxy\/gateway\/blob\/([^/]+)\//g)].map((m) => m[1]));
  expect([...cited]).toEqual([PLATFORM_RELEASES['envoy-gateway'].version]);
  // requestID (Generate) and the X-Forwarded-For handling are Envoy Gateway's defaults only while
  // no ClientTrafficPolicy or EnvoyProxy says otherwise: with one, the page's rules change.
  for (const env of resolveEnvironments(environments, root)) {
    const synthesized = synthObjects(env);
    const objects = [...synthesized.map((o) => o.object), ...argocdObjects(buildModel(env), synthesized)] as any[];
    expect(objects.filter((o) => ['ClientTrafficPolicy', 'EnvoyProxy'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    const gateways = objects.filter((o) => o.kind === 'Gateway');
    expect(gateways.length).toBeGreaterThan(0);
    for (const gateway of gateways) expect(gateway.spec.infrastructure?.parametersRef).toBeUndefined();
    for (const gatewayClass of objects.filter((o) => o.kind === 'GatewayClass')) expect(gatewayClass.spec.parametersRef).toBeUndefined();
  }
});
