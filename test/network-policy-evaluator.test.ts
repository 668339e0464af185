/**
 * The NetworkPolicy evaluator (test/support/network-policy-evaluator.ts) against the cases the
 * Kubernetes documentation spells out, so the flow tests built on it judge policies as a cluster
 * would. Sources, quoted in the cases:
 *   - concepts: https://kubernetes.io/docs/concepts/services-networking/network-policies/
 *     (its example policies are content/en/examples/service/networking/*.yaml in kubernetes/website)
 *   - reference: https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
 *   - defaulting: SetDefaults_NetworkPolicy in kubernetes/kubernetes pkg/apis/networking/v1/defaults.go
 * Each case is a set of policies, a sender, a receiver, a port, a protocol and the verdict with both
 * sides applied ("For a network flow between two pods to be allowed, both the egress policy on the
 * source pod and the ingress policy on the destination pod need to allow the traffic").
 */
import type { K8sObject } from '../pipeline/k8s-object';
import {
  allowed, effectivePolicyTypes, ipInBlock, judge, networkPolicyProblems, sideAllows, type Endpoint, type Pod, type Protocol,
} from './support/network-policy-evaluator';

function np(name: string, spec: K8sObject, namespace = 'default'): K8sObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

const pod = (namespace: string, labels: Record<string, string>, extra: Partial<Pod> = {}): Pod => ({ namespace, labels, ...extra });
const nsLabels = { alice: { user: 'alice' }, myproject: { project: 'myproject' } };

// The cast: `default` holds the policies' pods; other namespaces carry labels the selectors look for.
const P = {
  db: pod('default', { role: 'db' }, { ip: '10.244.0.10', ports: [{ name: 'redis', containerPort: 6379 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }),
  frontend: pod('default', { role: 'frontend' }, { ip: '10.244.0.11' }),
  backend: pod('default', { role: 'backend' }, { ports: [{ name: 'redis', containerPort: 7000 }] }),
  clientHere: pod('default', { role: 'client' }),
  clientOfAlice: pod('alice-ns', { role: 'client' }, { namespaceLabels: nsLabels.alice }),
  serverOfAlice: pod('alice-ns', { role: 'server' }, { namespaceLabels: nsLabels.alice }),
  clientElsewhere: pod('other', { role: 'client' }),
  frontendElsewhere: pod('other', { role: 'frontend' }),
  dbElsewhere: pod('other', { role: 'db' }),
  inMyproject: pod('myproject', { app: 'anything' }, { namespaceLabels: nsLabels.myproject }),
  // Namespace labels are the namespace's own: a pod cannot get them by wearing them.
  wearsProjectLabel: pod('other', { project: 'myproject' }),
};
const ip = (address: string): Endpoint => ({ ip: address });

// The concepts page's example policies, verbatim but for the namespace the examples leave to kubectl.
const DEFAULT_DENY_INGRESS = np('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
const ALLOW_ALL_INGRESS = np('allow-all-ingress', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] });
const DEFAULT_DENY_EGRESS = np('default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
const ALLOW_ALL_EGRESS = np('allow-all-egress', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] });
const DEFAULT_DENY_ALL = np('default-deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
const ALLOW_EGRESS_DENY_INGRESS = np('allow-egress-deny-ingress', { podSelector: {}, policyTypes: ['Egress', 'Ingress'], egress: [{}], ingress: [] });
const TEST_NETWORK_POLICY = np('test-network-policy', {
  podSelector: { matchLabels: { role: 'db' } },
  policyTypes: ['Ingress', 'Egress'],
  ingress: [{
    from: [
      { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
      { namespaceSelector: { matchLabels: { project: 'myproject' } } },
      { podSelector: { matchLabels: { role: 'frontend' } } },
    ],
    ports: [{ protocol: 'TCP', port: 6379 }],
  }],
  egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
});
const MULTI_PORT_EGRESS = np('multi-port-egress', {
  podSelector: { matchLabels: { role: 'db' } },
  policyTypes: ['Egress'],
  egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
});
const onDb = (name: string, ingress: K8sObject[]) => np(name, { podSelector: { matchLabels: { role: 'db' } }, policyTypes: ['Ingress'], ingress });
// "contains a single from element allowing connections from Pods with the label role=client in
// namespaces with the label user=alice"
const ALICE_AND_CLIENT = onDb('and', [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }] }]);
// "allows connections from Pods in the local Namespace with the label role=client, or from any Pod
// in any namespace with the label user=alice"
const ALICE_OR_CLIENT = onDb('or', [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }]);

interface Case {
  readonly policies: K8sObject[];
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: Protocol;
  readonly expected: boolean;
}

const cases: Record<string, Case> = {
  // "By default, pods are non-isolated; they accept traffic from any source."
  'no policy: everything flows': { policies: [], from: P.frontend, to: P.db, port: 6379, expected: true },
  'no policy: even from outside, on any protocol': { policies: [], from: ip('203.0.113.9'), to: P.db, port: 9, protocol: 'SCTP', expected: true },

  // Default deny and allow all.
  'default deny ingress: nothing gets in': { policies: [DEFAULT_DENY_INGRESS], from: P.frontend, to: P.db, port: 6379, expected: false },
  'default deny ingress: egress untouched': { policies: [DEFAULT_DENY_INGRESS], from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'UDP', expected: true },
  'allow all ingress (ingress: [{}]): any source, port and protocol': { policies: [DEFAULT_DENY_INGRESS, ALLOW_ALL_INGRESS], from: ip('203.0.113.9'), to: P.db, port: 12345, protocol: 'UDP', expected: true },
  'allow all ingress: pods of other namespaces too': { policies: [ALLOW_ALL_INGRESS], from: P.clientElsewhere, to: P.db, port: 1, expected: true },
  'default deny egress: nothing goes out': { policies: [DEFAULT_DENY_EGRESS], from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'UDP', expected: false },
  'default deny egress: not even to a pod of the namespace': { policies: [DEFAULT_DENY_EGRESS], from: P.frontend, to: P.db, port: 6379, expected: false },
  'default deny egress: ingress untouched': { policies: [DEFAULT_DENY_EGRESS], from: ip('203.0.113.9'), to: P.db, port: 6379, expected: true },
  'allow all egress (egress: [{}])': { policies: [DEFAULT_DENY_EGRESS, ALLOW_ALL_EGRESS], from: P.db, to: ip('8.8.8.8'), port: 443, expected: true },
  'default deny all: in': { policies: [DEFAULT_DENY_ALL], from: ip('203.0.113.9'), to: P.db, port: 6379, expected: false },
  'default deny all: out': { policies: [DEFAULT_DENY_ALL], from: P.db, to: ip('8.8.8.8'), port: 443, expected: false },
  'allow all egress, deny all ingress (ingress: []): out': { policies: [ALLOW_EGRESS_DENY_INGRESS], from: P.db, to: ip('8.8.8.8'), port: 443, expected: true },
  'allow all egress, deny all ingress (ingress: []): in': { policies: [ALLOW_EGRESS_DENY_INGRESS], from: P.frontend, to: P.db, port: 6379, expected: false },

  // namespaceSelector and podSelector: one element (AND) versus two (OR).
  'one element: a client in an alice namespace': { policies: [ALICE_AND_CLIENT], from: P.clientOfAlice, to: P.db, port: 80, expected: true },
  'one element: not another pod of that namespace': { policies: [ALICE_AND_CLIENT], from: P.serverOfAlice, to: P.db, port: 80, expected: false },
  'one element: not a client of the local namespace': { policies: [ALICE_AND_CLIENT], from: P.clientHere, to: P.db, port: 80, expected: false },
  'two elements: a client in an alice namespace': { policies: [ALICE_OR_CLIENT], from: P.clientOfAlice, to: P.db, port: 80, expected: true },
  'two elements: any pod of an alice namespace': { policies: [ALICE_OR_CLIENT], from: P.serverOfAlice, to: P.db, port: 80, expected: true },
  'two elements: a client of the local namespace': { policies: [ALICE_OR_CLIENT], from: P.clientHere, to: P.db, port: 80, expected: true },
  'two elements: not a client of a third namespace': { policies: [ALICE_OR_CLIENT], from: P.clientElsewhere, to: P.db, port: 80, expected: false },

  // The concepts page's test-network-policy: "IP addresses in the ranges 172.17.0.0–172.17.0.255
  // and 172.17.2.0–172.17.255.255", "any pod in a namespace with the label project=myproject",
  // "any pod in the default namespace with the label role=frontend", on TCP 6379; out to
  // 10.0.0.0/24 on TCP 5978.
  'example: 172.17.0.0/16 gets in': { policies: [TEST_NETWORK_POLICY], from: ip('172.17.0.255'), to: P.db, port: 6379, expected: true },
  'example: 172.17.2.0 gets in': { policies: [TEST_NETWORK_POLICY], from: ip('172.17.2.0'), to: P.db, port: 6379, expected: true },
  'example: 172.17.255.255 gets in': { policies: [TEST_NETWORK_POLICY], from: ip('172.17.255.255'), to: P.db, port: 6379, expected: true },
  'example: except 172.17.1.0/24': { policies: [TEST_NETWORK_POLICY], from: ip('172.17.1.7'), to: P.db, port: 6379, expected: false },
  'example: outside the cidr': { policies: [TEST_NETWORK_POLICY], from: ip('172.18.0.1'), to: P.db, port: 6379, expected: false },
  'example: any pod of a project=myproject namespace': { policies: [TEST_NETWORK_POLICY], from: P.inMyproject, to: P.db, port: 6379, expected: true },
  'example: a pod wearing the namespace label is not in that namespace': { policies: [TEST_NETWORK_POLICY], from: P.wearsProjectLabel, to: P.db, port: 6379, expected: false },
  'example: frontend of the local namespace': { policies: [TEST_NETWORK_POLICY], from: P.frontend, to: P.db, port: 6379, expected: true },
  'example: frontend of another namespace': { policies: [TEST_NETWORK_POLICY], from: P.frontendElsewhere, to: P.db, port: 6379, expected: false },
  'example: another port': { policies: [TEST_NETWORK_POLICY], from: P.frontend, to: P.db, port: 6380, expected: false },
  'example: UDP on the port': { policies: [TEST_NETWORK_POLICY], from: P.frontend, to: P.db, port: 6379, protocol: 'UDP', expected: false },
  'example: out to 10.0.0.0/24 on 5978': { policies: [TEST_NETWORK_POLICY], from: P.db, to: ip('10.0.0.7'), port: 5978, expected: true },
  'example: not out to 10.0.1.0': { policies: [TEST_NETWORK_POLICY], from: P.db, to: ip('10.0.1.7'), port: 5978, expected: false },
  'example: not out on another port': { policies: [TEST_NETWORK_POLICY], from: P.db, to: ip('10.0.0.7'), port: 5979, expected: false },
  'example: not out to the frontend': { policies: [TEST_NETWORK_POLICY], from: P.db, to: P.frontend, port: 80, expected: false },
  'example: the same db labels in another namespace are not selected': { policies: [TEST_NETWORK_POLICY], from: ip('203.0.113.9'), to: P.dbElsewhere, port: 6379, expected: true },

  // endPort: "allow a Pod with label db ... to communicate with any IP within the range
  // 10.0.0.0/24 if the target port is between the range 32000 and 32768", inclusive.
  'endPort: 32000': { policies: [MULTI_PORT_EGRESS], from: P.db, to: ip('10.0.0.1'), port: 32000, expected: true },
  'endPort: 32768': { policies: [MULTI_PORT_EGRESS], from: P.db, to: ip('10.0.0.1'), port: 32768, expected: true },
  'endPort: 31999': { policies: [MULTI_PORT_EGRESS], from: P.db, to: ip('10.0.0.1'), port: 31999, expected: false },
  'endPort: 32769': { policies: [MULTI_PORT_EGRESS], from: P.db, to: ip('10.0.0.1'), port: 32769, expected: false },

  // Named ports resolve against the destination pod's container ports.
  'named port, ingress: the selected pod\'s port of that name': { policies: [onDb('named', [{ ports: [{ port: 'redis' }] }])], from: P.frontend, to: P.db, port: 6379, expected: true },
  'named port, ingress: another number': { policies: [onDb('named', [{ ports: [{ port: 'redis' }] }])], from: P.frontend, to: P.db, port: 7000, expected: false },
  'named port, ingress: the name on another protocol': { policies: [onDb('named', [{ ports: [{ port: 'dns', protocol: 'TCP' }] }])], from: P.frontend, to: P.db, port: 53, expected: false },
  'named port, ingress: the name with its protocol': { policies: [onDb('named', [{ ports: [{ port: 'dns', protocol: 'UDP' }] }])], from: P.frontend, to: P.db, port: 53, protocol: 'UDP', expected: true },
  'named port, egress: resolved on the peer (7000 on backend)': {
    policies: [np('named-egress', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'redis' }] }] })],
    from: P.frontend, to: P.backend, port: 7000, expected: true,
  },
  'named port, egress: not the number it has on another pod': {
    policies: [np('named-egress', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'redis' }] }] })],
    from: P.frontend, to: P.backend, port: 6379, expected: false,
  },
  'named port, egress: an address has no named ports': {
    policies: [np('named-egress', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'redis' }] }] })],
    from: P.frontend, to: ip('203.0.113.9'), port: 6379, expected: false,
  },

  // policyTypes defaulting: "all policies ... are assumed to affect Ingress"; "policies that contain
  // an Egress section are assumed to affect Egress".
  'no policyTypes, egress rules: ingress is isolated too': {
    policies: [np('egress-only-rules', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }] }] })],
    from: P.frontend, to: P.db, port: 6379, expected: false,
  },
  'no policyTypes, egress rules: egress follows them': {
    policies: [np('egress-only-rules', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }] }] })],
    from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'UDP', expected: false,
  },
  'no policyTypes, ingress rules only: egress is not isolated': {
    policies: [np('ingress-only', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })],
    from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'UDP', expected: true,
  },
  'no policyTypes, no rules at all: deny ingress': { policies: [np('bare', { podSelector: {} })], from: P.frontend, to: P.db, port: 6379, expected: false },
  'policyTypes: [] and egress: [] default to Ingress only': {
    policies: [np('empty-lists', { podSelector: {}, policyTypes: [], egress: [] })],
    from: P.db, to: ip('8.8.8.8'), port: 443, expected: true,
  },
  'policyTypes: [Egress] with no egress section allows nothing out': { policies: [np('egress-none', { podSelector: {}, policyTypes: ['Egress'] })], from: P.db, to: P.frontend, port: 80, expected: false },

  // Empty or absent from/to/ports: "this rule matches all sources/destinations/ports".
  'from: [] matches every source': { policies: [onDb('from-empty', [{ from: [], ports: [{ port: 5432 }] }])], from: ip('203.0.113.9'), to: P.db, port: 5432, expected: true },
  'from: [] still needs the port': { policies: [onDb('from-empty', [{ from: [], ports: [{ port: 5432 }] }])], from: P.frontend, to: P.db, port: 5433, expected: false },
  'ports: [] matches every port': { policies: [onDb('ports-empty', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [] }])], from: P.frontend, to: P.db, port: 1, protocol: 'SCTP', expected: true },
  'ports: [] still needs the peer': { policies: [onDb('ports-empty', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [] }])], from: P.backend, to: P.db, port: 1, expected: false },
  'to: [] matches every destination': {
    policies: [np('to-empty', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [], ports: [{ port: 53, protocol: 'UDP' }] }] })],
    from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'UDP', expected: true,
  },
  'to: [] on UDP 53 is not TCP 53': {
    policies: [np('to-empty', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [], ports: [{ port: 53, protocol: 'UDP' }] }] })],
    from: P.db, to: ip('8.8.8.8'), port: 53, protocol: 'TCP', expected: false,
  },
  'a port without a number matches every port of its protocol': { policies: [onDb('udp-any', [{ ports: [{ protocol: 'UDP' }] }])], from: P.frontend, to: P.db, port: 5353, protocol: 'UDP', expected: true },
  'a port without a number or protocol is every TCP port only': { policies: [onDb('tcp-any', [{ ports: [{}] }])], from: P.frontend, to: P.db, port: 5353, protocol: 'UDP', expected: false },

  // Selectors: an empty namespaceSelector is every namespace; a podSelector alone is the policy's own.
  'namespaceSelector: {} selects every namespace': { policies: [onDb('all-ns', [{ from: [{ namespaceSelector: {} }] }])], from: P.clientElsewhere, to: P.db, port: 80, expected: true },
  'namespaceSelector: {} selects pods, not addresses': { policies: [onDb('all-ns', [{ from: [{ namespaceSelector: {} }] }])], from: ip('10.244.9.9'), to: P.db, port: 80, expected: false },
  'podSelector: {} alone is the policy\'s namespace': { policies: [onDb('this-ns', [{ from: [{ podSelector: {} }] }])], from: P.clientElsewhere, to: P.db, port: 80, expected: false },
  'podSelector: {} alone: any pod of it': { policies: [onDb('this-ns', [{ from: [{ podSelector: {} }] }])], from: P.clientHere, to: P.db, port: 80, expected: true },
  'kubernetes.io/metadata.name is on every namespace': {
    policies: [onDb('by-name', [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }] }])],
    from: P.clientElsewhere, to: P.db, port: 80, expected: true,
  },
  'matchExpressions on namespaces: NotIn': {
    policies: [onDb('not-alice', [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'user', operator: 'NotIn', values: ['alice'] }] } }] }])],
    from: P.clientOfAlice, to: P.db, port: 80, expected: false,
  },

  // ipBlock against pod IPs (which CNIs such as Calico do match) and IPv6.
  'ipBlock matches a pod by its IP': { policies: [onDb('pod-range', [{ from: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }])], from: P.frontend, to: P.db, port: 80, expected: true },
  'ipBlock: a pod without a known IP does not match': { policies: [onDb('pod-range', [{ from: [{ ipBlock: { cidr: '10.244.0.0/16' } }] }])], from: P.backend, to: P.db, port: 80, expected: false },
  'ipBlock IPv6: inside': { policies: [onDb('v6', [{ from: [{ ipBlock: { cidr: '2001:db8::/64', except: ['2001:db8::ff00/120'] } }] }])], from: ip('2001:db8::1'), to: P.db, port: 80, expected: true },
  'ipBlock IPv6: except': { policies: [onDb('v6', [{ from: [{ ipBlock: { cidr: '2001:db8::/64', except: ['2001:db8::ff00/120'] } }] }])], from: ip('2001:db8::ff01'), to: P.db, port: 80, expected: false },
  'ipBlock IPv6: outside': { policies: [onDb('v6', [{ from: [{ ipBlock: { cidr: '2001:db8::/64' } }] }])], from: ip('2001:db8:0:1::1'), to: P.db, port: 80, expected: false },
  'ipBlock IPv4 0.0.0.0/0 is not IPv6': { policies: [onDb('v4-all', [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }])], from: ip('2001:db8::1'), to: P.db, port: 80, expected: false },
  'ipBlock host bits in the cidr are ignored ("192.168.1.1/24")': { policies: [onDb('host-bits', [{ from: [{ ipBlock: { cidr: '192.168.1.1/24' } }] }])], from: ip('192.168.1.200'), to: P.db, port: 80, expected: true },

  // Several policies are a union; policies apply only in their own namespace.
  'union: the first policy\'s peer': {
    policies: [onDb('a', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }]), onDb('b', [{ from: [{ podSelector: { matchLabels: { role: 'backend' } } }] }])],
    from: P.frontend, to: P.db, port: 6379, expected: true,
  },
  'union: the second policy\'s peer': {
    policies: [onDb('a', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }]), onDb('b', [{ from: [{ podSelector: { matchLabels: { role: 'backend' } } }] }])],
    from: P.backend, to: P.db, port: 6379, expected: true,
  },
  'union: neither': {
    policies: [onDb('a', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }]), onDb('b', [{ from: [{ podSelector: { matchLabels: { role: 'backend' } } }] }])],
    from: P.clientHere, to: P.db, port: 6379, expected: false,
  },
  'a deny-all of another namespace does not isolate this one': { policies: [np('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, 'other')], from: P.frontend, to: P.db, port: 6379, expected: true },
  'a deny-all of another namespace isolates its own pods': { policies: [np('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, 'other')], from: P.frontend, to: P.dbElsewhere, port: 6379, expected: false },
};

describe('the documented cases, both sides applied', () => {
  test.each(Object.entries(cases))('%s', (_name, c) => {
    expect(allowed(c.policies, c.from, c.to, c.port, c.protocol ?? 'TCP')).toBe(c.expected);
  });
});

describe('one side at a time', () => {
  test('a sender\'s egress and a receiver\'s ingress are judged by their own policies only', () => {
    const policies = [DEFAULT_DENY_EGRESS, onDb('from-frontend', [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }])];
    expect(sideAllows(policies, 'Ingress', P.db, P.frontend, 6379)).toBe(true);
    expect(sideAllows(policies, 'Egress', P.frontend, P.db, 6379)).toBe(false);
    expect(allowed(policies, P.frontend, P.db, 6379)).toBe(false);
  });

  test('the verdict names the rules that let the traffic through', () => {
    const v = judge([TEST_NETWORK_POLICY, ALLOW_ALL_INGRESS], 'Ingress', P.db, P.frontend, 6379);
    expect(v).toEqual({ allowed: true, isolated: true, rules: ['default/test-network-policy ingress[0]', 'default/allow-all-ingress ingress[0]'] });
    expect(judge([], 'Egress', P.db, P.frontend, 1)).toEqual({ allowed: true, isolated: false, rules: [] });
    expect(judge([DEFAULT_DENY_ALL], 'Egress', ip('203.0.113.9'), P.db, 1)).toEqual({ allowed: true, isolated: false, rules: [] });
  });
});

test('policyTypes defaulting follows the API server (len(policyTypes) == 0, len(egress) != 0)', () => {
  expect(effectivePolicyTypes(np('a', { podSelector: {} }))).toEqual(['Ingress']);
  expect(effectivePolicyTypes(np('b', { podSelector: {}, egress: [{}] }))).toEqual(['Ingress', 'Egress']);
  expect(effectivePolicyTypes(np('c', { podSelector: {}, policyTypes: [], egress: [] }))).toEqual(['Ingress']);
  expect(effectivePolicyTypes(np('d', { podSelector: {}, policyTypes: ['Egress'], ingress: [{}] }))).toEqual(['Egress']);
});

test('ipBlock: cidr and except, IPv4 and IPv6, family never mixed', () => {
  expect(ipInBlock('10.1.2.3', { cidr: '10.0.0.0/8' })).toBe(true);
  expect(ipInBlock('11.0.0.0', { cidr: '10.0.0.0/8' })).toBe(false);
  expect(ipInBlock('0.0.0.0', { cidr: '0.0.0.0/0' })).toBe(true);
  expect(ipInBlock('255.255.255.255', { cidr: '0.0.0.0/0', except: ['255.255.255.255/32'] })).toBe(false);
  expect(ipInBlock('::ffff:10.0.0.1', { cidr: '10.0.0.0/8' })).toBe(false);
  expect(ipInBlock('::ffff:10.0.0.1', { cidr: '::ffff:0:0/96' })).toBe(true);
  expect(ipInBlock('fe80::1', { cidr: '::/0', except: ['fe80::/10'] })).toBe(false);
  expect(ipInBlock('2001:db8:1:2:3:4:5:6', { cidr: '2001:db8::/32' })).toBe(true);
  expect(() => ipInBlock('10.0.0.256', { cidr: '10.0.0.0/8' })).toThrow('not an IP address');
  expect(() => ipInBlock('10.0.0.1', { cidr: '10.0.0.0/33' })).toThrow('not a CIDR');
});

describe('what the API server would reject, the evaluator refuses (rather than guess)', () => {
  test.each([
    ['a peer with no selector', { podSelector: {}, ingress: [{ from: [{}] }] }, 'must specify a peer'],
    ['ipBlock beside a selector', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, 'ipBlock may not be combined with podSelector'],
    ['except outside the cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/8'] } }] }] }, 'is not a strict subset'],
    ['except equal to the cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] }, 'is not a strict subset'],
    ['an invalid cidr', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0/8' } }] }] }, 'invalid cidr'],
    ['endPort with a named port', { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] }, 'endPort needs a numeric port'],
    ['endPort below port', { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, 'must be between port and 65535'],
    ['a numeric string as port name', { podSelector: {}, ingress: [{ ports: [{ port: '5432' }] }] }, 'is not a valid port name'],
    ['an unknown protocol', { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'HTTP' }] }] }, 'unknown protocol HTTP'],
    ['an unknown policy type', { podSelector: {}, policyTypes: ['Ingress', 'Sideways'] }, 'invalid policyTypes'],
    ['no podSelector', { ingress: [] }, 'spec.podSelector is required'],
    ['In without values', { podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }, 'In needs values'],
  ])('%s', (_name, spec, message) => {
    const policy = np('invalid', spec);
    expect(networkPolicyProblems(policy).join('\n')).toContain(message);
    expect(() => allowed([policy], P.frontend, P.db, 80)).toThrow(message);
  });

  test('a policy without a namespace', () => {
    const policy = { kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {} } };
    expect(() => sideAllows([policy], 'Ingress', P.db, P.frontend, 80)).toThrow('no namespace');
  });
});
