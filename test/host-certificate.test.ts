/** HostCertificate: one certificate per public host, from the environment's issuer, renewed early. */
import { Testing } from 'cdk8s';
import { HostCertificate, type HostCertificateProps } from '../charts/platform/host-certificate';
import { PlatformChart } from '../charts/platform/platform-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { appIdentity } from '../environments/model/identity';
import type { Model } from '../environments/model/model';
import { tlsSecretName } from '../environments/model/names';
import { CERTIFICATE_DURATION } from '../environments/rules';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, shop, variant, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const shopEnv = variant(shop);

function certificate(props: Partial<HostCertificateProps> & { hostname: string }): K8sObject {
  const all = { identity: appIdentity(shopEnv), issuer: 'letsencrypt-staging', renewBefore: '720h', ...props };
  return only(synthConstruct((scope) => new HostCertificate(scope, 'certificate', all)), 'Certificate');
}

const platformCertificates = (model: Model) =>
  Testing.synth(new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { model })).filter((o: K8sObject) => o.kind === 'Certificate');

/** Hours of a Go duration such as 720h or 1h30m. */
function hours(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d)!;
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}

test('for exactly its host, stored where the Gateway listener reads it', () => {
  const cert = certificate({ hostname: 'orders.shop.test' });
  expect(cert.metadata).toMatchObject({ name: 'orders-shop-test', namespace: 'shop-test' });
  expect(cert.spec.dnsNames).toEqual(['orders.shop.test']);
  expect(cert.spec.secretName).toBe(tlsSecretName('orders.shop.test'));
});

test('signed by the ClusterIssuer it is given', () => {
  expect(certificate({ hostname: 'a.test', issuer: 'letsencrypt-production' }).spec.issuerRef)
    .toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-production' });
});

test('each environment\'s certificates come from the issuer its configuration names', () => {
  const issuers = (model: Model) => platformCertificates(model).map((c) => c.spec.issuerRef.name);
  expect(issuers(variantModel(shop))).toEqual(['letsencrypt-staging']);
  expect(issuers(variantModel(shop, AS_PRODUCTION))).toEqual(['letsencrypt-production']);
});

test('renewBefore follows the configuration; the lifetime is Let\'s Encrypt\'s', () => {
  const [cert] = platformCertificates(variantModel(shop, { tls: { renewBefore: '480h' } }));
  expect(cert.spec.renewBefore).toBe('480h');
  expect(cert.spec.duration).toBe(CERTIFICATE_DURATION);
});

test('renewed a month before expiry: well ahead, with room for retries and rate limits', () => {
  // The default, and what every real environment's certificates get.
  const whole = resolveEnvironments(environments, process.cwd()).flatMap((env) => synthObjects(env).map((o) => o.object));
  const certs = [...platformCertificates(variantModel(shop)), ...whole.filter((o) => o.kind === 'Certificate')];
  expect(certs.length).toBeGreaterThan(2);
  for (const { spec } of certs) {
    expect(spec.duration).toBe(CERTIFICATE_DURATION);
    expect(hours(spec.renewBefore)).toBeGreaterThanOrEqual(14 * 24);
    expect(hours(spec.renewBefore)).toBeLessThanOrEqual(hours(spec.duration) / 2);
  }
});

test('an ECDSA key, rotated on every renewal, with only the usages an ECDSA server key has', () => {
  const { spec } = certificate({ hostname: 'a.test' });
  expect(spec.privateKey).toEqual({ algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' });
  expect(spec.usages).toEqual(['digital signature', 'server auth']);
});

test('the platform chart makes one Certificate per host', () => {
  const model = variantModel(shop, {
    hosts: [
      { hostname: 'shop.test', routes: [{ path: '/', service: 'web' }] },
      { hostname: 'api.shop.test', routes: [{ path: '/', service: 'api' }] },
    ],
  });
  expect(platformCertificates(model).map((c) => c.spec.dnsNames)).toEqual([['shop.test'], ['api.shop.test']]);
});
