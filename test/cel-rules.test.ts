/**
 * The CEL rules (`x-kubernetes-validations`) of every CRD the checks read (the bundles of
 * charts/gitops/platform-releases.ts, every served version) compile in pipeline/cel's environment:
 * `self` and `oldSelf` typed from the schema at the rule's place, every field a rule selects present
 * there, every function it calls declared with a matching overload. A rule that does not compile is
 * listed with the function the checker lacks. The checker refuses what the API server's compiler
 * refuses, and real rules evaluate on small objects with the CRD's own message.
 */
import { PLATFORM_RELEASES, type CrdBundle, type PlatformRelease, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { KUBERNETES_FUNCTIONS, isIP } from '../pipeline/cel/library';
import { compileRule, ruleSites, validateRules, type CompileError } from '../pipeline/cel/rules';
import type { SchemaNode } from '../pipeline/cel/types';
import { bundleCrds } from './support/platform-crds';

interface Site {
  readonly release: PlatformReleaseName;
  readonly crd: string;
  readonly version: string;
  readonly path: string;
  readonly schema: SchemaNode;
  readonly rule: { readonly rule: string; readonly messageExpression?: string };
}

const TABLE: Readonly<Record<PlatformReleaseName, PlatformRelease>> = PLATFORM_RELEASES;
const BUNDLES = (Object.keys(TABLE) as PlatformReleaseName[])
  .flatMap((release) => (TABLE[release].crds ? [{ release, crds: TABLE[release].crds as CrdBundle }] : []));

const SITES: Site[] = BUNDLES.flatMap(({ release, crds }) => bundleCrds(crds).flatMap((crd) => crd.versions
  .filter((v) => v.served && v.schema)
  .flatMap((v) => ruleSites(v.schema!.openAPIV3Schema as SchemaNode)
    .map((site) => ({ release, crd: crd.name, version: v.name, ...site })))));

/** The served schema of a CRD of the bundles, by its name and version. */
function schemaOf(crdName: string, version: string): SchemaNode {
  for (const { crds } of BUNDLES) {
    for (const crd of bundleCrds(crds)) {
      const v = crd.versions.find((x) => x.name === version);
      if (crd.name === crdName && v?.schema) return v.schema.openAPIV3Schema as SchemaNode;
    }
  }
  throw new Error(`no CRD ${crdName} ${version} in the bundles`);
}

describe('every CEL rule of the checked CRDs', () => {
  // The counts prove the walk reaches the rules (an empty list would compile vacuously); a CRD bump
  // that adds or drops rules changes them, with the new rules compiled by the test below.
  test('are found at their places: 356 rules, 7 of them transition rules, no messageExpression', () => {
    const byRelease = Object.fromEntries(BUNDLES.map(({ release }) => [release, SITES.filter((s) => s.release === release).length]));
    expect(byRelease).toEqual({
      'argo-cd': 0,
      'cert-manager': 2,
      'envoy-gateway': 272,
      'external-secrets': 38,
      'cloudnative-pg': 16,
      'plugin-barman-cloud': 2,
      'kube-prometheus-stack': 26,
    });
    expect(SITES.filter((s) => s.rule.messageExpression !== undefined)).toHaveLength(0);
    expect(SITES.filter((s) => compileRule(s.schema, s.rule).transition).map((s) => `${s.crd} ${s.version} ${s.path}`).sort()).toEqual([
      'backups.postgresql.cnpg.io v1 .spec',
      'clusters.postgresql.cnpg.io v1 .spec.serviceAccountName',
      'gatewayclasses.gateway.networking.k8s.io v1 .spec.controllerName',
      'gatewayclasses.gateway.networking.k8s.io v1beta1 .spec.controllerName',
      'poolers.postgresql.cnpg.io v1 .spec.cluster',
      'poolers.postgresql.cnpg.io v1 .spec.serviceAccountName',
      'scheduledbackups.postgresql.cnpg.io v1 .spec.cluster',
    ]);
  });

  test('compile, or are listed with the function the checker lacks', () => {
    const failures = SITES.flatMap((s) => compileRule(s.schema, s.rule).errors
      .map((e: CompileError) => `${s.crd} ${s.version} ${s.path}: ${e.expression} ${e.message}`
        + `${e.missingFunction ? ` [lacks ${e.missingFunction}]` : ''}\n    ${s.rule.rule}`));
    expect(failures).toEqual([]);
  });
});

describe('the checker refuses what the API server would not compile', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      replicas: { type: 'integer' },
      tags: { type: 'array', items: { type: 'string' } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      namespace: { type: 'string' },
      'max-surge': { 'x-kubernetes-int-or-string': true },
    },
  };
  const errorOf = (rule: string, messageExpression?: string) => compileRule(schema, { rule, messageExpression }).errors[0];

  test.each([
    ['a field the schema does not have', 'has(self.image)', "undefined field 'image'", undefined],
    ['a Kubernetes library function it lacks', 'self.tags.isSorted()', "undeclared reference to member function 'isSorted'", 'isSorted (member)'],
    ['a global function it lacks', "quantity('1Gi').isGreaterThan(quantity('1'))", "undeclared reference to function 'quantity'", 'quantity'],
    ['a call on the wrong type', "self.replicas.startsWith('a')", "found no matching overload for 'startsWith' applied to 'int.(string)'", 'startsWith on int.(string)'],
    ['equality across types', 'self.name == 1', "found no matching overload for '_==_' applied to '(string, int)'", undefined],
    ['branches of two types', "self.replicas > (has(self.name) ? 1 : 'a')", "found no matching overload for '_?_:_' applied to '(bool, int, string)'", undefined],
    ['a rule that is not a bool', 'self.name', 'rule must evaluate to bool, found string', undefined],
    ['a reserved word unescaped', 'self.namespace == "a"', "undefined field 'namespace'", undefined],
  ])('%s', (_what, rule, message, missing) => {
    const error = errorOf(rule);
    expect(error?.message).toContain(message);
    expect(error?.missingFunction).toBe(missing);
  });

  test('at the root, self is the resource: of its metadata only name and generateName', () => {
    const root = (rule: string) => ruleSites({ type: 'object', properties: { metadata: { type: 'object' } }, 'x-kubernetes-validations': [{ rule }] })[0];
    const errors = (rule: string) => compileRule(root(rule).schema, { rule }).errors.map((e) => e.message);
    expect(errors("self.metadata.name.startsWith('a') && self.kind == 'K' && self.apiVersion != ''")).toEqual([]);
    expect(errors("has(self.metadata.labels)")).toEqual(["undefined field 'labels'"]);
  });

  test('a messageExpression is checked too, as a string', () => {
    expect(errorOf('true', 'self.replicas')?.message).toBe('messageExpression must evaluate to string, found int');
    expect(errorOf('true', 'self.nope')?.message).toBe("undefined field 'nope'");
  });

  test('escaped property names, map keys, macros and the strings extension compile', () => {
    for (const rule of [
      "self.__namespace__ == 'a'", 'self.max__dash__surge != 0', "self.labels.all(k, k.split('/')[0].size() < 253)",
      "self.tags.map(t, t.lowerAscii()).exists(t, t == 'a')", 'self.tags.exists_one(t, t.matches("^a"))', 'self.replicas < 1.5',
    ]) expect([rule, compileRule(schema, { rule }).errors]).toEqual([rule, []]);
  });
});

describe('rules evaluate with the CRD\'s message', () => {
  const cluster = schemaOf('clusters.postgresql.cnpg.io', 'v1');
  const pooler = schemaOf('poolers.postgresql.cnpg.io', 'v1');
  const httpRoute = schemaOf('httproutes.gateway.networking.k8s.io', 'v1');
  const tlsRoute = schemaOf('tlsroutes.gateway.networking.k8s.io', 'v1');
  const clusterIssuer = schemaOf('clusterissuers.cert-manager.io', 'v1');
  const meta = { name: 'x', namespace: 'app' };

  test('CloudNativePG Cluster: imageName and imageCatalogRef are exclusive', () => {
    const spec = { instances: 3, storage: { size: '1Gi' }, imageName: 'ghcr.io/cloudnative-pg/postgresql:17.5' };
    const kind = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: meta };
    expect(validateRules(cluster, { ...kind, spec })).toEqual([]);
    const ref = { apiGroup: 'postgresql.cnpg.io', kind: 'ImageCatalog', name: 'pg', major: 17 };
    expect(validateRules(cluster, { ...kind, spec: { ...spec, imageCatalogRef: ref } })).toEqual([
      expect.objectContaining({ path: 'spec', message: 'imageName and imageCatalogRef are mutually exclusive' }),
    ]);
  });

  test('CloudNativePG Cluster: synchronous replicas greater than zero, an integer field as a CEL int', () => {
    const spec = (number: number) => ({ instances: 3, postgresql: { synchronous: { method: 'any', number } } });
    expect(validateRules(cluster, { spec: spec(1) })).toEqual([]);
    expect(validateRules(cluster, { spec: spec(0) })).toEqual([
      expect.objectContaining({ path: 'spec.postgresql.synchronous.number', message: 'The number of synchronous replicas should be greater than zero' }),
    ]);
  });

  test('Pooler spec.cluster: a transition rule, evaluated only on an update, against oldSelf', () => {
    const pooler1 = { spec: { cluster: { name: 'db' }, instances: 2, type: 'rw', pgbouncer: { poolMode: 'transaction' } } };
    const pooler2 = { spec: { ...pooler1.spec, cluster: { name: 'other' } } };
    expect(validateRules(pooler, pooler2)).toEqual([]);
    expect(validateRules(pooler, pooler1, pooler1)).toEqual([]);
    expect(validateRules(pooler, pooler2, pooler1)).toEqual([
      expect.objectContaining({ path: 'spec.cluster', message: 'cluster reference is immutable after creation' }),
    ]);
  });

  // As the API server does, rules see the object with its defaults, written out here (group, kind,
  // matches): a rule reading an absent field fails to evaluate, as it would in the API server.
  const backendRef = (name: string, port: number) => ({ group: '', kind: 'Service', name, port, weight: 1 });
  const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' };

  test('evaluating a rule on a field left to its default is an error, not a pass', () => {
    const route = { spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'web', port: 80 }] }] } };
    expect(validateRules(httpRoute, route)).toEqual([
      expect.objectContaining({ path: 'spec.rules[0].backendRefs[0]', message: expect.stringMatching(/^rule evaluation error: .*field not found: group$/) }),
    ]);
  });

  test('Gateway API HTTPRoute: backendRequest timeout not longer than request, durations compared as durations', () => {
    const matches = [{ path: { type: 'PathPrefix', value: '/' } }];
    const route = (timeouts: object) => ({ spec: { parentRefs: [parentRef], rules: [{ matches, timeouts, backendRefs: [backendRef('web', 80)] }] } });
    expect(validateRules(httpRoute, route({ request: '10s', backendRequest: '9500ms' }))).toEqual([]);
    expect(validateRules(httpRoute, route({ request: '0s', backendRequest: '1h' }))).toEqual([]);
    expect(validateRules(httpRoute, route({ request: '10s', backendRequest: '1m' }))).toEqual([
      expect.objectContaining({ path: 'spec.rules[0].timeouts', message: 'backendRequest timeout cannot be longer than request timeout' }),
    ]);
  });

  test('Gateway API TLSRoute: a hostname is not an IP (Kubernetes isIP)', () => {
    const route = (hostnames: string[]) => ({ spec: { hostnames, parentRefs: [parentRef], rules: [{ backendRefs: [backendRef('db', 5432)] }] } });
    expect(validateRules(tlsRoute, route(['db.example.com']))).toEqual([]);
    expect(validateRules(tlsRoute, route(['10.0.0.1'])).map((v) => v.path)).toEqual(['spec.hostnames']);
  });

  test('cert-manager ClusterIssuer: exactly one Venafi connection', () => {
    const issuer = (venafi: object) => ({ spec: { venafi: { zone: 'z', ...venafi } } });
    const tpp = { url: 'https://tpp.example/vedsdk', credentialsRef: { name: 'tpp' } };
    expect(validateRules(clusterIssuer, issuer({ tpp }))).toEqual([]);
    expect(validateRules(clusterIssuer, issuer({ tpp, cloud: { apiTokenSecretRef: { name: 'c', key: 'k' } } }))).toEqual([
      expect.objectContaining({ path: 'spec.venafi', message: 'exactly one of tpp, cloud, or ngts must be configured' }),
    ]);
  });

  test('a messageExpression gives the message where it evaluates to a non-empty string', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: { tags: { type: 'array', items: { type: 'string' } } },
      'x-kubernetes-validations': [{ rule: 'self.tags.all(t, t.size() <= 3)', message: 'tags too long', messageExpression: "'too long: ' + self.tags.join(', ')" }],
    };
    expect(validateRules(schema, { tags: ['abc'] })).toEqual([]);
    expect(validateRules(schema, { tags: ['abcd', 'e'] })).toEqual([expect.objectContaining({ path: '', message: 'too long: abcd, e' })]);
  });

  test('a rule that does not compile throws rather than passing the object', () => {
    const schema: SchemaNode = { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'isCIDR(self.a)' }] };
    expect(() => validateRules(schema, { a: '10.0.0.0/8' })).toThrow(/does not compile.*undeclared reference to function 'isCIDR'/);
  });
});

describe('Kubernetes library functions', () => {
  test('are only those the rules use, each citing its source', () => {
    expect(KUBERNETES_FUNCTIONS.map((f) => [f.name, f.source])).toEqual([['isIP', 'k8s.io/apiserver/pkg/cel/library/ip.go']]);
  });

  // ip.go parseIPAddr: netip.ParseAddr, then no zone and no IPv4-mapped IPv6.
  test.each([
    ['192.168.0.1', true], ['2001:db8::1', true], ['::1', true],
    ['192.168.00.1', false], ['256.0.0.1', false], ['fe80::1%eth0', false], ['::ffff:192.168.0.1', false], ['::ffff:c0a8:1', false],
    ['example.com', false], ['', false],
  ])('isIP(%j) is %s', (s, expected) => {
    expect(isIP(s)).toBe(expected);
  });
});
