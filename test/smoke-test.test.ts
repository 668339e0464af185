/**
 * The smoke test's script (charts/app/scripts/smoke-test.sh) run for real: the file and the check list
 * of the ConfigMap synthesized for the `shop` fixture, started as its Job starts it (the command and
 * the settings of the synthesized container), with dash and the real curl, against a local HTTPS
 * server whose certificate a throwaway CA made with openssl signed. The servers answer the way the
 * synthesized HTTPRoutes make the Gateway answer (the HTTPS route's response headers, the plain-HTTP
 * route's redirect), then break one thing at a time: each must fail the run, with a FAIL line saying
 * what was expected and what came. The script checks the configured host names (TLS verifies
 * `shop.test`); curl connects to the local servers through SMOKE_TEST_CONNECT_TO, which the Job never
 * sets. Only delays are scaled: the pause between attempts is 0; servers that answer wrongly every
 * time are asked twice, not twelve times (past the first retry, further attempts only delay the same
 * verdict); one test waits 3 s, not 10, for a request that hangs. Production's values are asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMOKE_TEST_CONTAINER } from '../charts/app/smoke-test-job';
import { FIXED_NAMES } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { runCommand, type CommandResult } from './support/command';
import { shop, variant } from './support/fixtures';
import { listenPorts } from './support/ports';
import { REPO } from './support/repository-copy';
import { only } from './support/synth-construct';

const NAME = FIXED_NAMES.smokeTest;
const SCRIPTS = join(REPO, 'charts', 'app', 'scripts');

/** What the fixture synthesizes: the smoke test's Job and ConfigMap, and the routes it checks. */
function synthesized(env: Environment) {
  const objects = synthObjects(env).map((o) => o.object);
  const job = only(objects, 'Job', NAME);
  const container = (job.spec.template.spec.containers as K8sObject[]).find((c) => c.name === SMOKE_TEST_CONTAINER)!;
  const mount = (container.volumeMounts as K8sObject[])[0];
  const volume = (job.spec.template.spec.volumes as K8sObject[]).find((v) => v.name === mount.name)!;
  const configMap = only(objects, 'ConfigMap', volume.configMap.name);
  return { objects, container, mountPath: mount.mountPath as string, files: configMap.data as Record<string, string> };
}

// A publicly trusted issuer, so the Job verifies certificates (the shop's own is Let's Encrypt's staging).
const env = variant(shop, { tls: { issuer: 'letsencrypt-production' } });
const hostnames = env.hosts.map((h) => h.hostname);
const { objects, container, mountPath, files } = synthesized(env);
const settings: Record<string, string> = Object.fromEntries((container.env as K8sObject[]).map((e) => [e.name, e.value as string]));

/** The Gateway as the synthesized routes program it: the headers every HTTPS answer gets, and the redirect. */
const httpsRoute = only(objects, 'HTTPRoute', hostnames[0].replaceAll('.', '-'));
interface Header { name: string; value: string }
const routeHeaders = httpsRoute.spec.rules[0].filters[0].responseHeaderModifier as { set: Header[]; add: Header[] };
const redirect = only(objects, 'HTTPRoute', 'https-redirect').spec.rules[0].filters[0].requestRedirect as { scheme: string; statusCode: number };

let work: string;
/** The Job's command, the mounted files' folder being the test's. */
let command: string[];
let pki: string;
let https: HttpsServer;
let http: Server;
let httpsPort: number;
let httpPort: number;
const certificates: Record<string, { key: Buffer; cert: Buffer }> = {};

/** What the servers do; each test changes one thing, afterEach puts it back. */
interface Behaviour {
  /** Status the backend answers a path with: the application's root page, its api's root. */
  status: (path: string) => number;
  /** The headers of an HTTPS answer, after the Gateway's route added its own (lower-case names). */
  headers: (headers: Record<string, string[]>) => Record<string, string[]>;
  /** HTTPS requests answered 503 without the route's headers, as before the Gateway programs the route. */
  unprogrammedRequests: number;
  /** HTTPS requests never answered. */
  hungRequests: number;
  /** Plain HTTP: what the HTTP listener answers. */
  plain: (req: IncomingMessage) => { status: number; location?: string };
}

const normal = (): Behaviour => ({
  status: (path) => (path.startsWith('/api') ? 404 : 200),
  headers: (h) => h,
  unprogrammedRequests: 0,
  hungRequests: 0,
  plain: (req) => ({ status: redirect.statusCode, location: `${redirect.scheme}://${req.headers.host}${req.url}` }),
});
let behaviour = normal();
const seen = { https: 0, http: 0 };

function answerHttps(req: IncomingMessage, res: ServerResponse) {
  seen.https++;
  if (behaviour.hungRequests > 0) {
    behaviour.hungRequests--;
    return;
  }
  if (behaviour.unprogrammedRequests > 0) {
    behaviour.unprogrammedRequests--;
    res.writeHead(503).end('no healthy upstream');
    return;
  }
  // The backend's own headers first, then the route's filter: `set` replaces, `add` appends.
  const headers: Record<string, string[]> = { 'content-type': ['text/html'], 'content-security-policy': ["default-src 'self'"] };
  for (const h of routeHeaders.set) headers[h.name.toLowerCase()] = [h.value];
  for (const h of routeHeaders.add) headers[h.name.toLowerCase()] = [...(headers[h.name.toLowerCase()] ?? []), h.value];
  res.writeHead(behaviour.status(req.url ?? '/'), behaviour.headers(headers)).end('hello');
}

function answerHttp(req: IncomingMessage, res: ServerResponse) {
  seen.http++;
  const { status, location } = behaviour.plain(req);
  res.writeHead(status, location ? { location } : {}).end();
}

function openssl(args: string[]) {
  const r = spawnSync('openssl', args, { cwd: pki, encoding: 'utf8', env: { PATH: process.env.PATH } });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A CA (its key and certificate in <name>.key, <name>.crt). */
function ca(name: string) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-days', '2', '-subj', `/CN=${name}`]);
}

/** A key and certificate request for `host`. */
function request(name: string, host: string) {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`]);
}

function load(name: string) {
  certificates[name] = { key: readFileSync(join(pki, `${name}.key`)), cert: readFileSync(join(pki, `${name}.crt`)) };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipshape-smoke-test-'));
  pki = join(work, 'pki');
  mkdirSync(pki);
  const host = hostnames[0];
  ca('trusted-ca');
  ca('other-ca');
  request('good', host);
  openssl(['x509', '-req', '-in', 'good.csr', '-CA', 'trusted-ca.crt', '-CAkey', 'trusted-ca.key', '-days', '2', '-copy_extensions', 'copy', '-out', 'good.crt']);
  // Same host, a CA curl does not trust.
  openssl(['x509', '-req', '-in', 'good.csr', '-CA', 'other-ca.crt', '-CAkey', 'other-ca.key', '-days', '2', '-copy_extensions', 'copy', '-out', 'untrusted.crt']);
  certificates.untrusted = { key: readFileSync(join(pki, 'good.key')), cert: readFileSync(join(pki, 'untrusted.crt')) };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self-signed.key', '-out', 'self-signed.crt',
    '-days', '2', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`]);
  // The trusted CA, for another host.
  request('other-host', 'other.test');
  openssl(['x509', '-req', '-in', 'other-host.csr', '-CA', 'trusted-ca.crt', '-CAkey', 'trusted-ca.key', '-days', '2', '-copy_extensions', 'copy', '-out', 'other-host.crt']);
  // The trusted CA, the right host, valid for one day in 2020: `openssl ca` takes start and end dates.
  mkdirSync(join(pki, 'ca-db'));
  writeFileSync(join(pki, 'ca-db', 'index.txt'), '');
  writeFileSync(join(pki, 'ca-db', 'serial'), '01\n');
  writeFileSync(join(pki, 'ca.cnf'), [
    '[ca]', 'default_ca = past', '[past]', 'database = ca-db/index.txt', 'new_certs_dir = ca-db', 'serial = ca-db/serial',
    'default_md = sha256', 'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', '',
  ].join('\n'));
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'trusted-ca.crt', '-keyfile', 'trusted-ca.key', '-in', 'good.csr', '-out', 'expired.crt',
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext']);
  certificates.expired = { key: readFileSync(join(pki, 'good.key')), cert: readFileSync(join(pki, 'expired.crt')) };
  for (const name of ['good', 'self-signed', 'other-host']) load(name);

  // What the pod mounts, where the Job's settings name it.
  const mounted = join(work, 'mounted');
  mkdirSync(mounted);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(mounted, file), text);
  for (const [key, value] of Object.entries(settings)) settings[key] = value.replace(mountPath, mounted);
  command = (container.command as string[]).map((word) => word.replace(mountPath, mounted));

  https = createHttpsServer(certificates.good, answerHttps);
  http = createHttpServer(answerHttp);
  await Promise.all([https, http].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  httpsPort = (https.address() as AddressInfo).port;
  httpPort = (http.address() as AddressInfo).port;
});

afterEach(() => {
  behaviour = normal();
  https.setSecureContext(certificates.good);
});

afterAll(async () => {
  for (const s of [https, http]) {
    s?.closeAllConnections();
    await new Promise((resolve) => s ? s.close(resolve) : resolve(undefined));
  }
  rmSync(work, { recursive: true, force: true });
});

/** The script as the Job runs it, with the Job's settings; `overrides` replace or add settings. */
function smokeTest(overrides: Record<string, string> = {}, ports = { https: httpsPort, http: httpPort }): Promise<CommandResult> {
  const connectTo = hostnames.flatMap((h) => [`${h}:443:127.0.0.1:${ports.https}`, `${h}:80:127.0.0.1:${ports.http}`]).join(' ');
  return runCommand(command[0], command.slice(1), {
    cwd: work,
    // Nothing of the test runner's environment (proxies, a CA bundle) but PATH.
    env: { PATH: process.env.PATH, ...settings, SMOKE_TEST_PAUSE_SECONDS: '0', CURL_CA_BUNDLE: join(pki, 'trusted-ca.crt'), SMOKE_TEST_CONNECT_TO: connectTo, ...overrides },
    timeoutMs: 60_000,
  });
}

const lines = (r: CommandResult, prefix: string) => r.stdout.split('\n').filter((l) => l.startsWith(prefix));
const urls = env.hosts.flatMap((h) => h.routes.map((r) => `https://${h.hostname}${r.path}`));
const headerNames = [...routeHeaders.set, ...routeHeaders.add].map((h) => h.name);
/** Checks per run: each URL answering and carrying each header, and each host's redirect. */
const CHECKS = urls.length * (1 + headerNames.length) + hostnames.length;

describe('what the script gets', () => {
  test('shellcheck finds nothing, reading it as POSIX sh (the image has BusyBox, no bash), at every severity', () => {
    const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '--format=gcc', 'smoke-test.sh'], { cwd: SCRIPTS, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readFileSync(join(SCRIPTS, 'smoke-test.sh'), 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toMatch(/^set -eu$/m);
  });

  test('the synthesized Job runs the shipped script with sh, and the check list names every host and path of the configuration', () => {
    expect(container.command[0]).toBe('sh');
    expect(files['smoke-test.sh']).toBe(readFileSync(join(SCRIPTS, 'smoke-test.sh'), 'utf8'));
    expect(files.checks).toContain('https shop.test /\nhttps shop.test /api\nhttp shop.test\n');
    expect(settings).not.toHaveProperty('SMOKE_TEST_CONNECT_TO');
    expect(CHECKS).toBe(13);
  });

  test('production waits 10 s between 12 attempts; the tests make the pause 0 and keep the rest', () => {
    expect(synthesized(env).container.env).toEqual(expect.arrayContaining([
      { name: 'SMOKE_TEST_ATTEMPTS', value: '12' }, { name: 'SMOKE_TEST_PAUSE_SECONDS', value: '10' }, { name: 'SMOKE_TEST_TIMEOUT_SECONDS', value: '10' },
    ]));
  });
});

describe('answers as the routes make the Gateway answer', () => {
  test('pass: one PASS line per check, exit 0 at the first attempt', async () => {
    const r = await smokeTest();
    expect(r.stderr).toBe('');
    expect(lines(r, 'FAIL')).toEqual([]);
    expect(lines(r, 'PASS')).toHaveLength(CHECKS);
    expect(r.stdout).toContain('PASS https://shop.test/ answers: 200\n');
    expect(r.stdout).toContain('PASS https://shop.test/api answers: 404\n');
    expect(r.stdout).toContain('PASS https://shop.test/ Strict-Transport-Security: "max-age=63072000; includeSubDomains"\n');
    expect(r.stdout).toContain('PASS https://shop.test/api Content-Security-Policy: includes "frame-ancestors \'none\'"\n');
    expect(r.stdout).toContain('PASS http://shop.test/ redirects to HTTPS: 301 to https://shop.test/\n');
    expect(r.stdout).toMatch(/smoke test passed: 13 checks, at attempt 1 of 12\n$/);
    expect(r.status).toBe(0);
  });

  test('a 401, 403 or 405 is the application answering; a redirect from the application too', async () => {
    for (const status of [401, 403, 405, 302]) {
      behaviour.status = () => status;
      const r = await smokeTest();
      expect({ status, exit: r.status, fails: lines(r, 'FAIL') }).toEqual({ status, exit: 0, fails: [] });
    }
  }, 90_000);

  test('names of headers in any case, as HTTP/2 sends them', async () => {
    behaviour.headers = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    const r = await smokeTest();
    expect(lines(r, 'FAIL')).toEqual([]);
    expect(r.status).toBe(0);
  });

  test('the Gateway still programming the route (503 without the headers), then answering: passes at a later attempt, saying so', async () => {
    // Every HTTPS request of the first attempt.
    behaviour.unprogrammedRequests = urls.length;
    const r = await smokeTest();
    expect(r.stdout).toMatch(/^attempt 1 of 12: 12 of 13 checks failed, the first: FAIL https:\/\/shop\.test\/ answers: expected a status below 500, got 503; next attempt in 0 s$/m);
    expect(lines(r, 'FAIL')).toEqual([]);
    expect(r.stdout).toMatch(/smoke test passed: 13 checks, at attempt 2 of 12\n$/);
    expect(r.status).toBe(0);
  });

  test('a request that hangs is cut off at the timeout and tried again', async () => {
    behaviour.hungRequests = 1;
    // The timeout is the one setting made shorter besides the pause: one hung request waits for it.
    const r = await smokeTest({ SMOKE_TEST_TIMEOUT_SECONDS: '3' });
    expect(r.stdout).toMatch(/^attempt 1 of 12: 6 of 13 checks failed, the first: FAIL https:\/\/shop\.test\/ answers over verified TLS: .*curl error 28: /m);
    expect(r.status).toBe(0);
  });
});

/**
 * A failed run: exit 1 after every attempt, the last one's FAIL lines, and the summary. Servers
 * that answer wrongly every time are asked twice, not twelve times: each further attempt repeats
 * the same requests for the same answers, so past the first retry the count only delays the
 * verdict (the last test keeps production's twelve, and so do the recoveries above).
 */
async function failing(overrides: Record<string, string> = {}, ports?: { https: number; http: number }): Promise<string[]> {
  const attempts = overrides.SMOKE_TEST_ATTEMPTS ?? '2';
  const r = await smokeTest({ SMOKE_TEST_ATTEMPTS: attempts, ...overrides }, ports);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(1);
  const fails = lines(r, 'FAIL');
  expect(r.stdout).toContain(`smoke test FAILED: ${fails.length} of ${CHECKS} checks failed at the last of ${attempts} attempts\n`);
  expect(lines(r, 'attempt ')).toHaveLength(Number(attempts) - 1);
  expect(lines(r, 'PASS').length + fails.length).toBe(CHECKS);
  return fails;
}

describe('each wrong answer fails the sync', () => {
  test('a 5xx from a backend', async () => {
    behaviour.status = (path) => (path === '/api' ? 503 : 200);
    expect(await failing()).toEqual(['FAIL https://shop.test/api answers: expected a status below 500, got 503']);
  });

  const HSTS = 'max-age=63072000; includeSubDomains';
  test.each([
    ['HSTS missing', (h: Record<string, string[]>) => { delete h['strict-transport-security']; },
      `FAIL https://shop.test/ Strict-Transport-Security: expected "${HSTS}", got none`],
    ['HSTS with a shorter max-age', (h: Record<string, string[]>) => { h['strict-transport-security'] = ['max-age=300; includeSubDomains']; },
      `FAIL https://shop.test/ Strict-Transport-Security: expected "${HSTS}", got "max-age=300; includeSubDomains"`],
    ['HSTS twice', (h: Record<string, string[]>) => { h['strict-transport-security'] = [HSTS, 'max-age=0']; },
      `FAIL https://shop.test/ Strict-Transport-Security: expected "${HSTS}", got "${HSTS}", "max-age=0"`],
    ['nosniff missing', (h: Record<string, string[]>) => { delete h['x-content-type-options']; },
      'FAIL https://shop.test/ X-Content-Type-Options: expected "nosniff", got none'],
    ['framing allowed from the same origin', (h: Record<string, string[]>) => { h['x-frame-options'] = ['SAMEORIGIN']; },
      'FAIL https://shop.test/ X-Frame-Options: expected "DENY", got "SAMEORIGIN"'],
    ['no referrer policy', (h: Record<string, string[]>) => { delete h['referrer-policy']; },
      'FAIL https://shop.test/ Referrer-Policy: expected "strict-origin-when-cross-origin", got none'],
    ['the application\'s CSP only, without the route\'s frame-ancestors', (h: Record<string, string[]>) => { h['content-security-policy'] = ["default-src 'self'"]; },
      'FAIL https://shop.test/ Content-Security-Policy: expected a value "frame-ancestors \'none\'", got "default-src \'self\'"'],
  ])('%s', async (_, edit, expected) => {
    behaviour.headers = (h) => {
      edit(h);
      return h;
    };
    // Every path carries the route's headers, so every path fails alike.
    expect(await failing()).toEqual(urls.map((u) => expected.replace('https://shop.test/ ', `${u} `)));
  });

  test('the same joined into one header by a proxy passes: the route\'s value is one of them', async () => {
    behaviour.headers = (h) => ({ ...h, 'content-security-policy': [h['content-security-policy'].join(', ')] });
    const r = await smokeTest();
    expect(lines(r, 'FAIL')).toEqual([]);
    expect(r.status).toBe(0);
  });

  test('a Gateway still setting the previous HSTS fails against a configuration that now asks for preload', async () => {
    const preload = synthesized(variant(shop, { hsts: { ...env.hsts, preload: true } }));
    const checks = join(work, 'checks-with-preload');
    writeFileSync(checks, preload.files.checks);
    expect(await failing({ SMOKE_TEST_CHECKS: checks })).toEqual(urls.map((u) =>
      `FAIL ${u} Strict-Transport-Security: expected "max-age=63072000; includeSubDomains; preload", got "max-age=63072000; includeSubDomains"`));
  });

  test.each([
    ['from a CA curl does not trust', 'untrusted', 'unable to get local issuer certificate'],
    ['self-signed', 'self-signed', 'self-signed certificate'],
    ['expired', 'expired', 'certificate has expired'],
    ['for another host', 'other-host', 'no alternative certificate subject name matches target host name \'shop.test\''],
  ])('a certificate %s', async (_, name, message) => {
    https.setSecureContext(certificates[name]);
    const fails = await failing();
    for (const url of urls) {
      expect(fails).toContain(`FAIL ${url} answers over verified TLS: expected a status below 500, got no response (curl error 60: SSL certificate problem: ${message})`
        .replace('SSL certificate problem: no alternative', 'SSL: no alternative'));
      for (const header of headerNames) expect(fails).toContainEqual(expect.stringMatching(new RegExp(`^FAIL ${url} ${header}: expected ".*", got no response$`)));
    }
    // Plain HTTP still redirects.
    expect(fails).toHaveLength(urls.length * (1 + headerNames.length));
  });

  test('where the issuer is one no trust store holds (Let\'s Encrypt staging), the Job does not verify certificates, and a self-signed one passes', async () => {
    const verify = (issuer: 'letsencrypt-staging' | 'letsencrypt-production') => (synthesized(variant(shop, { tls: { issuer } })).container.env as K8sObject[])
      .find((e) => e.name === 'SMOKE_TEST_VERIFY_CERTIFICATES')?.value;
    expect([verify('letsencrypt-staging'), verify('letsencrypt-production')]).toEqual(['false', 'true']);
    https.setSecureContext(certificates['self-signed']);
    const r = await smokeTest({ SMOKE_TEST_VERIFY_CERTIFICATES: 'false' });
    expect(lines(r, 'FAIL')).toEqual([]);
    expect(r.status).toBe(0);
  });

  test.each([
    ['served over plain HTTP', { status: 200 }, 'got 200 to none'],
    ['redirected temporarily', { status: 302, location: 'https://shop.test/' }, 'got 302 to "https://shop.test/"'],
    ['redirected to plain HTTP', { status: 301, location: 'http://shop.test/' }, 'got 301 to "http://shop.test/"'],
    ['redirected to another host', { status: 301, location: 'https://evil.test/' }, 'got 301 to "https://evil.test/"'],
  ])('plain HTTP %s', async (_, answer, got) => {
    behaviour.plain = () => answer;
    expect(await failing()).toEqual([`FAIL http://shop.test/ redirects to HTTPS: expected 301 or 308 to https://shop.test/, ${got}`]);
  });

  test('nothing answering, through production\'s twelve attempts', async () => {
    // Ports nobody listens on, outside the range outgoing connections take theirs from.
    const [closedHttps, closedHttp] = await listenPorts(2);
    const before = { ...seen };
    const fails = await failing({ SMOKE_TEST_ATTEMPTS: settings.SMOKE_TEST_ATTEMPTS }, { https: closedHttps, http: closedHttp });
    expect(settings.SMOKE_TEST_ATTEMPTS).toBe('12');
    expect(fails.find((l) => l.startsWith('FAIL https://shop.test/ answers'))).toMatch(/got no response \(curl error 7: Failed to connect to 127\.0\.0\.1 port \d+ /);
    expect(fails.find((l) => l.startsWith('FAIL http://shop.test/'))).toMatch(/expected 301 or 308 to https:\/\/shop\.test\/, got no response \(curl error 7: /);
    expect(fails).toHaveLength(CHECKS);
    expect(seen).toEqual(before);
  }, 90_000);
});

describe('a configuration it cannot run is refused before any request (EX_CONFIG, 64)', () => {
  test.each([
    ['no check list', { SMOKE_TEST_CHECKS: '' }, 'FAILED: SMOKE_TEST_CHECKS is not set'],
    ['a check list that is not there', { SMOKE_TEST_CHECKS: '/nonexistent/checks' }, 'FAILED: cannot read the check list /nonexistent/checks'],
    ['attempts that are not a number', { SMOKE_TEST_ATTEMPTS: 'many' }, 'FAILED: SMOKE_TEST_ATTEMPTS must be a whole number of at least 1, not "many"'],
    ['no attempt at all', { SMOKE_TEST_ATTEMPTS: '0' }, 'FAILED: SMOKE_TEST_ATTEMPTS must be a whole number of at least 1, not "0"'],
    ['no timeout', { SMOKE_TEST_TIMEOUT_SECONDS: '' }, 'FAILED: SMOKE_TEST_TIMEOUT_SECONDS must be a whole number of at least 1, not ""'],
    ['certificate verification neither true nor false', { SMOKE_TEST_VERIFY_CERTIFICATES: 'yes' }, 'FAILED: SMOKE_TEST_VERIFY_CERTIFICATES must be true or false, not "yes"'],
  ])('%s', async (_, overrides, message) => {
    const before = { ...seen };
    const r = await smokeTest(overrides);
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 64, stderr: `${message}\n`, stdout: '' });
    expect(seen).toEqual(before);
  });

  test.each([
    ['an unknown check', 'https shop.test /\nheader-absent Server\n', 'unknown check "header-absent"'],
    ['a path that is not one', 'https shop.test api\n', 'an https line needs a host and a path starting with /'],
    ['a header without a value', 'https shop.test /\nheader-equals X-Frame-Options\n', 'a header line needs a name and a value'],
    ['no host at all', '# nothing\nheader-equals X-Frame-Options DENY\n', 'names no host to check'],
  ])('a check list with %s', async (_, text, message) => {
    const checks = join(work, 'bad-checks');
    writeFileSync(checks, text);
    const before = { ...seen };
    const r = await smokeTest({ SMOKE_TEST_CHECKS: checks });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(message);
    expect(seen).toEqual(before);
  });
});
