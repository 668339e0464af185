/**
 * NetworkPolicy semantics applied to concrete endpoints, so tests state flows: a pod selected by
 * any policy of a type is isolated for that type, and a flow passes when one of those policies has
 * a rule matching the peer and the port, on both the sending and the receiving side.
 */
import { selectorMatches, type K8sObject } from '../../charts/common/policy';

export interface Pod { readonly namespace: string; readonly labels: Record<string, string> }
export interface External { readonly ip: string }
export type Endpoint = Pod | External;

function ipv4(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: K8sObject, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    return 'ip' in other && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(other.ip, c));
  }
  if (!('namespace' in other)) return false;
  const namespaceOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': other.namespace })
    : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true);
}

/** Whether `self`'s own policies let it send (Egress) to or receive (Ingress) from `other`. */
export function sideAllows(policies: K8sObject[], type: 'Ingress' | 'Egress', self: Endpoint, other: Endpoint, port: number, protocol = 'TCP'): boolean {
  if (!('namespace' in self)) return true;
  const applicable = policies.filter((p) => p.metadata.namespace === self.namespace
    && selectorMatches(p.spec.podSelector, self.labels) && p.spec.policyTypes.includes(type));
  if (applicable.length === 0) return true;
  return applicable.some((p) => ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((rule: K8sObject) =>
    (rule.ports === undefined || rule.ports.some((r: K8sObject) => r.port === port && (r.protocol ?? 'TCP') === protocol))
    && ((type === 'Ingress' ? rule.from : rule.to) ?? [{}]).some((peer: K8sObject) =>
      Object.keys(peer).length === 0 || peerMatches(peer, other, p.metadata.namespace))));
}

/** Both ends agree: the sender's egress and the receiver's ingress. */
export function allowed(policies: K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  return sideAllows(policies, 'Egress', from, to, port, protocol) && sideAllows(policies, 'Ingress', to, from, port, protocol);
}

