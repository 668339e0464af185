/**
 * The uptime checks' module for real: each environment's synthesized blackbox.yml (the file the
 * exporter's pod reads), run by Debian's blackbox_exporter on 127.0.0.1 against HTTPS servers of
 * this test, with certificates it makes: a CA of its own, a certificate it signs for localhost, one
 * expired, one for another host, and a self-signed one.
 *
 * Production's module verifies against the system CAs and adds none of its own: the test CA reaches
 * the exporter only through its process environment (SSL_CERT_FILE, which Go reads for the system
 * roots), as a public CA is in the image's bundle; the module is run as shipped. Without it, the same
 * valid server fails. Staging's module (its issuer is not publicly trusted) accepts any certificate
 * but still reports its expiry. The metrics the uptime alerts use appear in what the exporter
 * answers, and are the ones test/fixtures/metrics/blackbox_exporter.txt records for the deployed
 * version.
 *
 * Debian's exporter is 0.23, production runs 0.28 (charts/common/images.ts): the configuration keys
 * are the same in both (0.23 reads the file strictly and accepts it), and the metrics the alerts use
 * are older than 0.23. What 0.28 adds to the list (probe_tls_cipher_info, 0.26) is stated below.
 * Every wait is bounded; every process is stopped by PID in afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BLACKBOX_EXPORTER_IMAGE } from '../charts/common/images';
import { UPTIME_LABEL_NAME } from '../charts/observability/uptime-checks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { mountedBlackboxConfig } from './support/blackbox-config';
import { commandEnv } from './support/command';
import { ADDRESS_IN_USE, listenPorts } from './support/ports';
import { only } from './support/synth-construct';
import { waitFor } from './support/wait';

const envs = resolveEnvironments(environments, process.cwd());
const objectsOf = (name: string) => synthObjects(envs.find((e) => e.name === name)!).map((o) => o.object);
const PRODUCTION = objectsOf('production');
const STAGING = objectsOf('staging');
const FIXTURE = join(process.cwd(), 'test/fixtures/metrics/blackbox_exporter.txt');

const dir = mkdtempSync(join(tmpdir(), 'shipshape-blackbox-live-'));
const processes: ChildProcess[] = [];
const servers: Server[] = [];

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, and what it and the key of localhost sign. Extensions as a public CA's server certificates have them. */
function makeCertificates(): void {
  mkdirSync(join(dir, 'issued'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'openssl.cnf'), [
    '[ req ]', 'distinguished_name = dn', '[ dn ]',
    '[ ca_ext ]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash',
    '[ ca ]', 'default_ca = test',
    '[ test ]', 'database = index.txt', 'new_certs_dir = issued', 'serial = serial', 'default_md = sha256', 'policy = any',
    'copy_extensions = none', 'unique_subject = no',
    '[ any ]', 'commonName = supplied',
    '[ localhost ]', 'subjectAltName = DNS:localhost', 'basicConstraints = CA:FALSE', 'extendedKeyUsage = serverAuth',
    '[ elsewhere ]', 'subjectAltName = DNS:elsewhere.example', 'basicConstraints = CA:FALSE', 'extendedKeyUsage = serverAuth',
    '',
  ].join('\n'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-config', 'openssl.cnf', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3', '-subj', '/CN=shipshape uptime test CA', '-extensions', 'ca_ext']);
  openssl(['req', '-config', 'openssl.cnf', '-new', ...ec, '-keyout', 'localhost.key', '-out', 'localhost.csr', '-subj', '/CN=localhost']);
  const sign = (out: string, extensions: string, validity: readonly string[]) =>
    openssl(['ca', '-config', 'openssl.cnf', '-batch', '-notext', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'localhost.csr', '-out', out, '-extensions', extensions, ...validity]);
  sign('valid.pem', 'localhost', ['-days', '2']);
  sign('expired.pem', 'localhost', ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z']);
  sign('elsewhere.pem', 'elsewhere', ['-days', '2']);
  openssl(['req', '-config', 'openssl.cnf', '-x509', '-key', 'localhost.key', '-out', 'self-signed.pem', '-days', '2', '-subj', '/CN=localhost', '-extensions', 'localhost']);
}

/** An HTTPS server on 127.0.0.1 with `certificate`, answering every request with `status`; its port. */
async function httpsServer(certificate: string, status: number, headers: Record<string, string> = {}): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const [port] = await listenPorts(1);
    const server = createServer({ key: readFileSync(join(dir, 'localhost.key')), cert: readFileSync(join(dir, certificate)) }, (_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end('uptime test\n');
    });
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' && attempt < 5 ? resolve(false) : reject(e)));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      servers.push(server);
      return port;
    }
  }
}

interface Exporter { readonly port: number; readonly module: string; logs(): string }

/** Debian's blackbox_exporter on 127.0.0.1 with an environment's synthesized configuration, as shipped. */
async function startExporter(objects: readonly K8sObject[], name: string, extraEnv: NodeJS.ProcessEnv): Promise<Exporter> {
  const config = mountedBlackboxConfig(objects);
  const [module] = Object.keys(parse(config).modules);
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, config);
  const env = commandEnv(extraEnv);
  // The system's roots only, unless the test gives a file: nothing from the runner's environment.
  if (!('SSL_CERT_FILE' in extraEnv)) delete env.SSL_CERT_FILE;
  delete env.SSL_CERT_DIR;
  for (let attempt = 0; ; attempt++) {
    const [port] = await listenPorts(1);
    const child = spawn('prometheus-blackbox-exporter', [`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(child);
    let logs = '';
    child.stdout!.on('data', (c: Buffer) => { logs += c; });
    child.stderr!.on('data', (c: Buffer) => { logs += c; });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => { gone = true; });
    try {
      await waitFor(`${name}'s exporter to answer on ${port}`, 15_000, async () => {
        const r = await fetch(`http://127.0.0.1:${port}/-/healthy`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        return r?.ok === true;
      }, { check: () => { if (gone) throw new Error(`${name}'s exporter exited:\n${logs}`); }, context: () => logs });
      return { port, module, logs: () => logs };
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt < 5 && ADDRESS_IN_USE.test(logs)) continue;
      throw e;
    }
  }
}

/** One check, as Prometheus asks for it: the exporter's answer as metric name → values. */
async function probe(exporter: Exporter, port: number): Promise<Map<string, number[]>> {
  const target = `https://localhost:${port}/`;
  const r = await fetch(`http://127.0.0.1:${exporter.port}/probe?module=${exporter.module}&target=${encodeURIComponent(target)}`, { signal: AbortSignal.timeout(20_000) });
  expect(r.status).toBe(200);
  const metrics = new Map<string, number[]>();
  for (const line of (await r.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) metrics.set(m[1], [...(metrics.get(m[1]) ?? []), Number(m[2])]);
  }
  return metrics;
}

const value = (metrics: Map<string, number[]>, name: string) => metrics.get(name)?.[0];
const notAfter = (certificate: string) => Math.floor(Date.parse(new X509Certificate(readFileSync(join(dir, certificate))).validTo) / 1000);

let ports: Record<'valid' | 'redirect' | 'error' | 'expired' | 'elsewhere' | 'selfSigned', number>;
let trustingTestCa: Exporter;
let systemCas: Exporter;
let staging: Exporter;

beforeAll(async () => {
  makeCertificates();
  ports = {
    // Last-Modified: so that 0.23 shows every metric of an answer it has.
    valid: await httpsServer('valid.pem', 200, { 'last-modified': new Date(Date.now() - 3_600_000).toUTCString() }),
    redirect: await httpsServer('valid.pem', 302, { location: 'https://elsewhere.example/login' }),
    error: await httpsServer('valid.pem', 503),
    expired: await httpsServer('expired.pem', 200),
    elsewhere: await httpsServer('elsewhere.pem', 200),
    selfSigned: await httpsServer('self-signed.pem', 200),
  };
  [trustingTestCa, systemCas, staging] = await Promise.all([
    startExporter(PRODUCTION, 'production-test-ca', { SSL_CERT_FILE: join(dir, 'ca.pem') }),
    startExporter(PRODUCTION, 'production-system-cas', {}),
    startExporter(STAGING, 'staging', {}),
  ]);
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
  rmSync(dir, { recursive: true, force: true });
});

test('the versions: Debian\'s exporter is 0.23, production runs 0.28', () => {
  const r = spawnSync('prometheus-blackbox-exporter', ['--version'], { encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).toMatch(/version 0\.23\./);
  expect(BLACKBOX_EXPORTER_IMAGE).toMatch(/:v0\.28\.0@sha256:[0-9a-f]{64}$/);
});

describe('production\'s module, the test CA trusted as the system\'s', () => {
  test('a valid certificate and a 200: up, and the expiry reported is the served certificate\'s', async () => {
    const m = await probe(trustingTestCa, ports.valid);
    expect(value(m, 'probe_success')).toBe(1);
    expect(value(m, 'probe_http_status_code')).toBe(200);
    expect(value(m, 'probe_http_ssl')).toBe(1);
    // The leaf expires before the CA: the earliest of the chain is what the users are served.
    expect(value(m, 'probe_ssl_earliest_cert_expiry')).toBe(notAfter('valid.pem'));
    expect(notAfter('valid.pem')).toBeLessThan(notAfter('ca.pem'));
  });

  test('a redirect is the host\'s own answer: up, and not followed to the other host', async () => {
    const m = await probe(trustingTestCa, ports.redirect);
    expect(value(m, 'probe_success')).toBe(1);
    // Followed, it would have asked elsewhere.example, which does not resolve: down, status 0.
    expect(value(m, 'probe_http_status_code')).toBe(302);
  });

  test('a server error: down, with the status the alert reports', async () => {
    const m = await probe(trustingTestCa, ports.error);
    expect(value(m, 'probe_success')).toBe(0);
    expect(value(m, 'probe_http_status_code')).toBe(503);
  });

  test.each([
    ['an expired certificate', 'expired'],
    ['a certificate for another host', 'elsewhere'],
    ['a self-signed certificate', 'selfSigned'],
  ] as const)('%s: down, with no HTTP answer (status 0)', async (_what, server) => {
    const m = await probe(trustingTestCa, ports[server]);
    expect(value(m, 'probe_success')).toBe(0);
    expect(value(m, 'probe_http_status_code')).toBe(0);
  });
});

test('production\'s module trusts no CA of its own: with the system CAs alone, the test CA\'s valid certificate is down', async () => {
  const m = await probe(systemCas, ports.valid);
  expect(value(m, 'probe_success')).toBe(0);
  expect(value(m, 'probe_http_status_code')).toBe(0);
});

describe('staging\'s module (an issuer no client trusts)', () => {
  test('a certificate no CA vouches for is up, and its expiry is still reported', async () => {
    const m = await probe(staging, ports.selfSigned);
    expect(value(m, 'probe_success')).toBe(1);
    expect(value(m, 'probe_ssl_earliest_cert_expiry')).toBe(notAfter('self-signed.pem'));
  });

  test('an expired certificate is up too, its expiry in the past: the certificate alert is the one that sees it', async () => {
    const m = await probe(staging, ports.expired);
    expect(value(m, 'probe_success')).toBe(1);
    expect(value(m, 'probe_ssl_earliest_cert_expiry')).toBe(Date.UTC(2020, 0, 2) / 1000);
  });

  test('a server error is down', async () => {
    const m = await probe(staging, ports.error);
    expect(value(m, 'probe_success')).toBe(0);
  });
});

test('the metrics the uptime alerts use are in the exporter\'s answer and in the deployed version\'s list', async () => {
  const answered = new Set((await probe(trustingTestCa, ports.valid)).keys());
  const listed = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  expect(readFileSync(FIXTURE, 'utf8')).toMatch(/^# exporter: blackbox_exporter 0\.28\.0 .*\n# source: prometheus\/blackbox_exporter@v0\.28\.0 /);
  for (const objects of [PRODUCTION, STAGING]) {
    const rules = only(objects, 'PrometheusRule', UPTIME_LABEL_NAME).spec.groups.flatMap((g: K8sObject) => g.rules as K8sObject[]) as K8sObject[];
    // Expressions and the queries of the descriptions.
    const used = [...new Set(rules.flatMap((r) => [r.expr, ...Object.values(r.annotations ?? {})].flatMap((t) => (t as string).match(/\bprobe_[a-z_]+/g) ?? [])))].sort();
    expect(used).toEqual(['probe_http_status_code', 'probe_ssl_earliest_cert_expiry', 'probe_success']);
    for (const name of used) expect({ name, answered: answered.has(name), listed: listed.includes(name) }).toEqual({ name, answered: true, listed: true });
  }
  // The list holds what 0.23 answers here, and the one gauge 0.26 added (the negotiated cipher).
  expect(listed.filter((n) => !answered.has(n))).toEqual(['probe_tls_cipher_info']);
  expect([...answered].filter((n) => n.startsWith('probe_') && !listed.includes(n))).toEqual([]);
});
