/**
 * NetworkPolicy (networking.k8s.io/v1) semantics applied to concrete endpoints, so tests state flows
 * and the real synthesized policies decide them. Written from the API reference
 * (https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/) and the
 * concepts page (https://kubernetes.io/docs/concepts/services-networking/network-policies/); the
 * rules that are easy to get wrong are quoted where they are applied. Tables of the documented
 * cases are in test/network-policy-evaluator.test.ts.
 *
 * Not modelled: traffic from the pod's own node (always allowed) and a pod's traffic to itself
 * (never blocked); an endpoint here stands for "a pod of this kind", never one particular pod.
 */
import type { K8sObject } from '../../pipeline/k8s-object';
import { selectorMatches } from '../../pipeline/policy';

export type Direction = 'Ingress' | 'Egress';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: Protocol;
}

export interface Pod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Labels of the pod's namespace; `kubernetes.io/metadata.name` is always added, as the API server does. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Real CNIs (Calico among them) match ipBlock peers against pod IPs too; without an IP, no ipBlock matches the pod. */
  readonly ip?: string;
  /** Container ports, against which named ports in policies resolve. */
  readonly ports?: readonly ContainerPort[];
}

/** An address outside the cluster's pods (the internet, the API server, a metadata endpoint). */
export interface External { readonly ip: string }
export type Endpoint = Pod | External;

export function isPod(e: Endpoint): e is Pod {
  return 'namespace' in e;
}

/** The namespace's labels as selectors see them: the API server sets this one on every namespace, and it cannot be changed. */
export function namespaceLabelsOf(pod: Pod): Record<string, string> {
  return { ...pod.namespaceLabels, 'kubernetes.io/metadata.name': pod.namespace };
}

// ---- addresses ----------------------------------------------------------------------------------

interface Address { readonly family: 4 | 6; readonly value: bigint }
interface Cidr { readonly family: 4 | 6; readonly base: bigint; readonly bits: number }

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): bigint[] | undefined => {
    if (half === '') return [];
    const out: bigint[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      // An embedded IPv4 address (::ffff:192.0.2.1) may only end the address.
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
        out.push(BigInt(`0x${part}`));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail].reduce((acc, g) => (acc << 16n) | g, 0n);
}

function parseIp(s: string): Address | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = s.includes(':') ? parseIpv6(s) : undefined;
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

function parseCidr(s: string): Cidr | undefined {
  const [ip, bits, extra] = String(s).split('/');
  const addr = parseIp(ip);
  if (!addr || extra !== undefined || !/^\d{1,3}$/.test(bits ?? '')) return undefined;
  const n = Number(bits);
  if (n > (addr.family === 4 ? 32 : 128)) return undefined;
  // "192.168.1.1/24" is one of the reference's valid examples: host bits are ignored.
  return { family: addr.family, base: addr.value, bits: n };
}

function prefix(value: bigint, family: 4 | 6, bits: number): bigint {
  return value >> BigInt((family === 4 ? 32 : 128) - bits);
}

function contains(cidr: Cidr, addr: Address): boolean {
  return cidr.family === addr.family && prefix(cidr.base, cidr.family, cidr.bits) === prefix(addr.value, addr.family, cidr.bits);
}

// Parsing with BigInt is the slow part of a large flow matrix; the same few strings recur.
const parsedIps = new Map<string, Address>();
const parsedCidrs = new Map<string, Cidr>();

function cachedIp(s: string): Address {
  let a = parsedIps.get(s);
  if (!a) {
    a = parseIp(s);
    if (!a) throw new Error(`not an IP address: ${s}`);
    parsedIps.set(s, a);
  }
  return a;
}

function cachedCidr(s: string): Cidr {
  let c = parsedCidrs.get(s);
  if (!c) {
    c = parseCidr(s);
    if (!c) throw new Error(`not a CIDR: ${s}`);
    parsedCidrs.set(s, c);
  }
  return c;
}

/** Whether an address lies in the block: in `cidr` and in none of `except`. */
export function ipInBlock(ip: string, block: { cidr: string; except?: string[] }): boolean {
  const addr = cachedIp(ip);
  return contains(cachedCidr(block.cidr), addr) && !(block.except ?? []).some((c) => contains(cachedCidr(c), addr));
}

// ---- validation: what the API server would refuse, the evaluator refuses too ---------------------

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
/** IANA_SVC_NAME, as the API server checks a named port: at most 15 characters, a letter, no leading, trailing or double hyphen. */
const SERVICE_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

function selectorProblems(selector: K8sObject, at: string): string[] {
  const out: string[] = [];
  for (const e of selector.matchExpressions ?? []) {
    if (!OPERATORS.has(e.operator)) out.push(`${at}: unknown operator ${e.operator}`);
    const hasValues = (e.values ?? []).length > 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && !hasValues) out.push(`${at}: ${e.operator} needs values`);
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && hasValues) out.push(`${at}: ${e.operator} takes no values`);
  }
  return out;
}

function peerProblems(peer: K8sObject, at: string): string[] {
  const fields = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((f) => peer[f] !== undefined && peer[f] !== null);
  if (fields.length === 0) return [`${at}: must specify a peer`];
  if (peer.ipBlock && fields.length > 1) return [`${at}: ipBlock may not be combined with ${fields.filter((f) => f !== 'ipBlock').join(', ')}`];
  if (peer.ipBlock) {
    const cidr = parseCidr(peer.ipBlock.cidr);
    if (!cidr) return [`${at}: invalid cidr ${peer.ipBlock.cidr}`];
    return (peer.ipBlock.except ?? []).flatMap((c: string) => {
      const e = parseCidr(c);
      // "Except values will be rejected if they are outside the CIDR range."
      return e && e.family === cidr.family && e.bits > cidr.bits && contains(cidr, { family: e.family, value: e.base }) ? []
        : [`${at}: except ${c} is not a strict subset of ${peer.ipBlock.cidr}`];
    });
  }
  return fields.flatMap((f) => selectorProblems(peer[f], `${at}.${f}`));
}

function portProblems(p: K8sObject, at: string): string[] {
  const out: string[] = [];
  if (p.protocol !== undefined && !PROTOCOLS.has(p.protocol)) out.push(`${at}: unknown protocol ${p.protocol}`);
  if (typeof p.port === 'number' && !(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535)) out.push(`${at}: port ${p.port} out of range`);
  if (typeof p.port === 'string' && !SERVICE_NAME.test(p.port)) out.push(`${at}: "${p.port}" is not a valid port name`);
  if (p.endPort !== undefined) {
    // "This field cannot be defined if the port field is not defined or if the port field is defined as a named (string) port."
    if (typeof p.port !== 'number') out.push(`${at}: endPort needs a numeric port`);
    else if (!(Number.isInteger(p.endPort) && p.endPort >= p.port && p.endPort <= 65535)) out.push(`${at}: endPort ${p.endPort} must be between port and 65535`);
  }
  return out;
}

/** Everything the API server would reject in this NetworkPolicy (empty when it is valid). */
export function networkPolicyProblems(policy: K8sObject): string[] {
  const at = `NetworkPolicy ${policy.metadata?.namespace}/${policy.metadata?.name}`;
  const spec = policy.spec ?? {};
  const out: string[] = [];
  if (policy.kind !== 'NetworkPolicy') out.push(`${at}: kind is ${policy.kind}`);
  if (!policy.metadata?.namespace) out.push(`${at}: no namespace (this evaluator does not guess one)`);
  if (!spec.podSelector) out.push(`${at}: spec.podSelector is required`);
  else out.push(...selectorProblems(spec.podSelector, `${at} podSelector`));
  const types: unknown[] = spec.policyTypes ?? [];
  if (types.length > 2 || types.some((t) => t !== 'Ingress' && t !== 'Egress')) out.push(`${at}: invalid policyTypes ${JSON.stringify(types)}`);
  for (const [dir, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    for (const [i, rule] of (spec[dir] ?? []).entries()) {
      for (const [j, peer] of (rule[peersKey] ?? []).entries()) out.push(...peerProblems(peer, `${at} ${dir}[${i}].${peersKey}[${j}]`));
      for (const [j, port] of (rule.ports ?? []).entries()) out.push(...portProblems(port, `${at} ${dir}[${i}].ports[${j}]`));
    }
  }
  return out;
}

const validated = new WeakSet<K8sObject>();

function checked(policies: readonly K8sObject[]): readonly K8sObject[] {
  for (const p of policies) {
    if (validated.has(p)) continue;
    const problems = networkPolicyProblems(p);
    if (problems.length > 0) throw new Error(`invalid NetworkPolicy, the API server would reject it:\n  ${problems.join('\n  ')}`);
    validated.add(p);
  }
  return policies;
}

// ---- semantics ------------------------------------------------------------------------------------

/**
 * "If this field is not specified, it will default based on the existence of Ingress or Egress
 * rules; policies that contain an Egress section are assumed to affect Egress, and all policies
 * (whether or not they contain an Ingress section) are assumed to affect Ingress." The API server's
 * defaulting (SetDefaults_NetworkPolicy) tests `len(spec.policyTypes) == 0` and `len(spec.egress) != 0`,
 * so `policyTypes: []` is defaulted too and `egress: []` does not count as an egress section.
 */
export function effectivePolicyTypes(policy: K8sObject): Direction[] {
  const types: Direction[] | undefined = policy.spec.policyTypes;
  if (types && types.length > 0) return types;
  return (policy.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

// Flow matrices ask about the same pod thousands of times; endpoints and policy lists are not
// changed once built, so the selection is kept per list and pod.
const selectionCache = new WeakMap<readonly K8sObject[], WeakMap<Pod, Partial<Record<Direction, K8sObject[]>>>>();

/** The policies that isolate the pod for a direction: same namespace, podSelector matching, type included. */
export function policiesSelecting(policies: readonly K8sObject[], pod: Pod, direction: Direction): K8sObject[] {
  let byPod = selectionCache.get(policies);
  if (!byPod) selectionCache.set(policies, byPod = new WeakMap());
  let entry = byPod.get(pod);
  if (!entry) byPod.set(pod, entry = {});
  return entry[direction] ??= checked(policies).filter((p) => p.metadata.namespace === pod.namespace
    && selectorMatches(p.spec.podSelector, pod.labels) && effectivePolicyTypes(p).includes(direction));
}

function peerMatches(peer: K8sObject, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) return other.ip !== undefined && ipInBlock(other.ip, peer.ipBlock);
  if (!isPod(other)) return false;
  // namespaceSelector "if present but empty, it selects all namespaces"; without it, "the Pods
  // matching PodSelector in the policy's own Namespace". Both present: pods of those namespaces (AND).
  const namespaceOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabelsOf(other))
    : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true);
}

/**
 * "The port on the given protocol. This can either be a numerical or named port on a pod. If this
 * field is not provided, this matches all port names and numbers." A named port resolves against the
 * destination's container ports (the selected pod for ingress, the peer for egress), with the
 * protocol of the policy port; an address that is no pod has no named ports.
 */
function portMatches(p: K8sObject, port: number, protocol: Protocol, destination: Endpoint): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'string') {
    return isPod(destination) && (destination.ports ?? [])
      .some((c) => c.name === p.port && (c.protocol ?? 'TCP') === protocol && c.containerPort === port);
  }
  return port >= p.port && port <= (p.endPort ?? p.port);
}

export interface Verdict {
  readonly allowed: boolean;
  /** Whether any policy isolates the endpoint for this direction (if none does, everything is allowed). */
  readonly isolated: boolean;
  /** The rules that let the traffic through, as `namespace/policy ingress[i]`. */
  readonly rules: readonly string[];
}

/** The half of a verdict that does not depend on the port: the rules whose peers match. */
export interface PeerVerdict {
  readonly isolated: boolean;
  readonly rules: readonly { readonly name: string; readonly ports: readonly K8sObject[] }[];
}

/**
 * The rules of `self`'s own policies for a direction whose peers match `other` (the destination
 * for Egress, the source for Ingress). An endpoint that is no pod has no policies.
 */
export function judgePeer(policies: readonly K8sObject[], direction: Direction, self: Endpoint, other: Endpoint): PeerVerdict {
  if (!isPod(self)) return { isolated: false, rules: [] };
  const selecting = policiesSelecting(policies, self, direction);
  if (selecting.length === 0) return { isolated: false, rules: [] };
  const key = direction === 'Ingress' ? 'ingress' : 'egress';
  return {
    isolated: true,
    rules: selecting.flatMap((p) => (p.spec[key] ?? []).flatMap((rule: K8sObject, i: number) => {
      // `from`/`to`: "If this field is empty or missing, this rule matches all sources/destinations".
      // An absent or empty `ingress`/`egress` list has no rule: nothing passes.
      const peers: K8sObject[] = (direction === 'Ingress' ? rule.from : rule.to) ?? [];
      const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(peer, other, p.metadata.namespace));
      return peerOk ? [{ name: `${p.metadata.namespace}/${p.metadata.name} ${key}[${i}]`, ports: rule.ports ?? [] }] : [];
    })),
  };
}

/** The verdict for one port, from the peer half (`self` and `other` as given to judgePeer). */
export function judgePort(peer: PeerVerdict, direction: Direction, self: Endpoint, other: Endpoint, port: number, protocol: Protocol = 'TCP'): Verdict {
  if (!peer.isolated) return { allowed: true, isolated: false, rules: [] };
  const destination = direction === 'Ingress' ? self : other;
  // `ports`: "If this field is empty or missing, this rule matches all ports".
  const rules = peer.rules.filter((r) => r.ports.length === 0 || r.ports.some((x) => portMatches(x, port, protocol, destination))).map((r) => r.name);
  return { allowed: rules.length > 0, isolated: true, rules };
}

/**
 * One side of a connection, judged by `self`'s own policies: what it may send (Egress, `other` is the
 * destination) or receive (Ingress, `other` is the source).
 */
export function judge(policies: readonly K8sObject[], direction: Direction, self: Endpoint, other: Endpoint, port: number, protocol: Protocol = 'TCP'): Verdict {
  return judgePort(judgePeer(policies, direction, self, other), direction, self, other, port, protocol);
}

/** Whether `self`'s own policies let it send (Egress) to or receive (Ingress) from `other`. */
export function sideAllows(policies: readonly K8sObject[], direction: Direction, self: Endpoint, other: Endpoint, port: number, protocol: Protocol = 'TCP'): boolean {
  return judge(policies, direction, self, other, port, protocol).allowed;
}

/**
 * "For a network flow between two pods to be allowed, both the egress policy on the source pod and
 * the ingress policy on the destination pod need to allow the traffic."
 */
export function allowed(policies: readonly K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP'): boolean {
  return sideAllows(policies, 'Egress', from, to, port, protocol) && sideAllows(policies, 'Ingress', to, from, port, protocol);
}
