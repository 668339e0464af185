/** HostCertificate: one certificate per public host, from the environment's issuer, renewed early. */
import { Chart, Testing } from 'cdk8s';
import { tlsSecretName } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { HostCertificate } from '../charts/platform/host-certificate';
import { CERTIFICATE_DURATION } from '../environments/rules';
import { PlatformChart } from '../charts/platform/platform-chart';
import { environments } from '../environments/index';
import { mergeConfig } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { staging } from '../environments/staging';
import type { Environment } from '../environments/schema';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);

/** Nothing is written, so the App's outdir is never created. */
function certificate(env: Environment, hostname: string): K8sObject {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new HostCertificate(chart, 'certificate', { env, hostname });
  return Testing.synth(chart)[0];
}

/** Hours of a Go duration such as 720h or 1h30m. */
function hours(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d)!;
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}

test('for exactly its host, stored where the Gateway listener reads it', () => {
  const cert = certificate(productionEnv, 'portal.university.example');
  expect(cert.metadata).toMatchObject({ name: 'portal-university-example', namespace: 'student-portal' });
  expect(cert.spec.dnsNames).toEqual(['portal.university.example']);
  expect(cert.spec.secretName).toBe(tlsSecretName('portal.university.example'));
});

test('each environment\'s certificates come from the issuer its configuration names', () => {
  expect(certificate(productionEnv, 'a.example').spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-production' });
  expect(certificate(stagingEnv, 'a.example').spec.issuerRef.name).toBe('letsencrypt-staging');
});

test('renewed a month before expiry: well ahead, with room for retries and rate limits', () => {
  for (const env of [stagingEnv, productionEnv]) {
    const { spec } = certificate(env, 'a.example');
    expect(spec.duration).toBe(CERTIFICATE_DURATION);
    expect(hours(spec.renewBefore)).toBeGreaterThanOrEqual(14 * 24);
    expect(hours(spec.renewBefore)).toBeLessThanOrEqual(hours(spec.duration) / 2);
  }
});

test('renewBefore follows the configuration', () => {
  const env = resolveEnvironment({ ...staging, config: mergeConfig(structuredClone(staging.config), { tls: { renewBefore: '480h' } }) }, root);
  expect(certificate(env, 'a.example').spec.renewBefore).toBe('480h');
});

test('an ECDSA key, rotated on every renewal, with only the usages an ECDSA server key has', () => {
  const { spec } = certificate(productionEnv, 'a.example');
  expect(spec.privateKey).toEqual({ algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' });
  expect(spec.usages).toEqual(['digital signature', 'server auth']);
});

test('the platform chart makes one Certificate per host', () => {
  const env = resolveEnvironment({
    ...staging,
    config: mergeConfig(structuredClone(staging.config), {
      hosts: [
        { hostname: 'portal.staging.university.example', routes: [{ path: '/', service: 'web' }] },
        { hostname: 'api.staging.university.example', routes: [{ path: '/', service: 'api' }] },
      ],
    }),
  }, root);
  const chart = new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { env });
  const certs = Testing.synth(chart).filter((o: K8sObject) => o.kind === 'Certificate');
  expect(certs.map((c: K8sObject) => c.spec.dnsNames)).toEqual([['portal.staging.university.example'], ['api.staging.university.example']]);
});
