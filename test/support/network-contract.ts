/**
 * A network contract as connections between the endpoints of a cast (./network-endpoints.ts), and
 * the judge that holds every NetworkPolicy of an environment to it, one side at a time:
 *   - egress: what a pod of ours may send is exactly what a declared flow lets it send;
 *   - ingress: what a pod of ours accepts is exactly what a declared flow sends to it.
 * A receiver that accepts more than its declared senders fails even when every sender's egress is
 * tight, which neither a sender-side check nor "both sides agree" can see. Verdicts come from the
 * evaluator (./network-policy-evaluator.ts), never from the code that wrote the policies.
 *
 * A contract is either written by hand (test/network-flows.test.ts, the reference application) or
 * derived from a model's flows table (`modelContract`): the policies must then say what the table
 * says, for every pod the environment runs and every stranger the cast adds.
 */
import type { NetworkModel, Party } from '../../environments/model/flows';
import type { K8sObject } from '../../pipeline/k8s-object';
import { podTemplate, selectorMatches } from '../../pipeline/policy';
import type { Cast } from './network-endpoints';
import { ipInBlock, isPod, judgePeer, judgePort, type Protocol } from './network-policy-evaluator';

export interface PortSpec { readonly port: number; readonly protocol: Protocol }

/** A declared flow between named endpoints of the cast. */
export interface CastFlow {
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly ports: readonly PortSpec[];
  readonly why: string;
  /**
   * Counted for the senders' egress only: a destination known by address (the Kubernetes API
   * server, whose real address differs per cluster) says what a sender may send, not what any pod
   * of ours that happens to have such an address accepts.
   */
  readonly egressOnly?: boolean;
}

export const tcp = (...ports: number[]): PortSpec[] => ports.map((port) => ({ port, protocol: 'TCP' }));

/** The endpoints of the cast a party of the model stands for. */
export function members(party: Party, c: Cast): string[] {
  return [...c.endpoints].filter(([name, e]) => {
    switch (party.kind) {
      case 'own':
        return c.own.includes(name) && isPod(e) && selectorMatches(party.selector, e.labels);
      case 'other':
        return isPod(e) && e.namespace === party.namespace
          && Object.entries(party.podLabels ?? {}).every(([k, v]) => e.labels[k] === v);
      case 'addresses':
        // Pods included: CNIs match ipBlock peers against pod addresses too, and so does the evaluator.
        return e.ip !== undefined && party.blocks.some((b) => ipInBlock(e.ip!, { cidr: b.cidr, except: b.except ? [...b.except] : undefined }));
    }
  }).map(([name]) => name);
}

/** The model's flows table as a contract over the cast. */
export function modelContract(model: NetworkModel, c: Cast): CastFlow[] {
  return model.flows.flatMap((f) => {
    const from = f.from.flatMap((p) => members(p, c));
    const byAddress = f.to.filter((p) => p.kind === 'addresses');
    const bySelector = f.to.filter((p) => p.kind !== 'addresses');
    return [
      ...(bySelector.length > 0 ? [{ from, to: bySelector.flatMap((p) => members(p, c)), ports: f.ports, why: f.why }] : []),
      ...(byAddress.length > 0 ? [{ from, to: byAddress.flatMap((p) => members(p, c)), ports: f.ports, why: f.why, egressOnly: true }] : []),
    ];
  });
}

export type Side = 'egress' | 'ingress';
const portKey = (p: PortSpec) => `${p.port}/${p.protocol}`;
const pairKey = (side: Side, from: string, to: string) => `${side} ${from} → ${to}`;

/** For each `side sender → receiver`, the ports the contract declares, each with why. */
export function declaredPorts(flows: readonly CastFlow[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const add = (k: string, f: CastFlow) => {
    const ports = out.get(k) ?? new Map<string, string>();
    for (const p of f.ports) ports.set(portKey(p), f.why);
    out.set(k, ports);
  };
  for (const f of flows) {
    for (const from of f.from) {
      for (const to of f.to) {
        add(pairKey('egress', from, to), f);
        if (!f.egressOnly) add(pairKey('ingress', from, to), f);
      }
    }
  }
  return out;
}

/**
 * The connections a contract declares that the judge looks at (our senders' egress, our receivers'
 * ingress), as sorted `side from → to:port/protocol` lines, to compare two contracts.
 */
export function connections(flows: readonly CastFlow[], c: Cast): string[] {
  const judged = (side: Side, from: string, to: string) => c.own.includes(side === 'egress' ? from : to);
  const lines: string[] = [];
  for (const f of flows) {
    for (const from of f.from) {
      for (const to of f.to) {
        for (const side of f.egressOnly ? ['egress'] as const : ['egress', 'ingress'] as const) {
          if (judged(side, from, to)) lines.push(...f.ports.map((p) => `${pairKey(side, from, to)}:${portKey(p)}`));
        }
      }
    }
  }
  return [...new Set(lines)].sort();
}

/** Every port any policy names (and its neighbours), every container port, and a few nobody should open, on each protocol. */
function portsToTry(c: Cast): PortSpec[] {
  const numbers = new Set([1, 22, 80, 443, 8443, 9090, 65535]);
  for (const p of c.policies) {
    for (const rule of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port !== 'number') continue;
        numbers.add(port.port - 1).add(port.port).add(port.port + 1);
        if (port.endPort) numbers.add(port.endPort).add(port.endPort + 1);
      }
    }
  }
  for (const e of c.endpoints.values()) if (isPod(e)) for (const p of e.ports ?? []) numbers.add(p.containerPort);
  return [...numbers].filter((n) => n >= 1 && n <= 65535).sort((a, b) => a - b)
    .flatMap((port) => (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ port, protocol })));
}

/**
 * Each side on its own, our senders' egress to everyone and our receivers' ingress from everyone,
 * against the contract: one line per connection that differs (empty when the policies are the contract).
 */
export function contractDifferences(c: Cast, flows: readonly CastFlow[]): string[] {
  const unknown = flows.flatMap((f) => [...f.from, ...f.to]).filter((n) => !c.endpoints.has(n));
  if (unknown.length > 0) return [`the contract names endpoints the cast does not have: ${[...new Set(unknown)].join(', ')}`];
  const declared = declaredPorts(flows);
  const out: string[] = [];
  const ports = portsToTry(c);
  const none = new Map<string, string>();
  for (const self of c.own) {
    for (const other of c.endpoints.keys()) {
      for (const [side, from, to] of [['egress', self, other], ['ingress', other, self]] as const) {
        const direction = side === 'egress' ? 'Egress' : 'Ingress';
        const [me, peer] = [c.endpoint(self), c.endpoint(other)];
        // The peer half of the verdict does not depend on the port: once per pair.
        const peerVerdict = judgePeer(c.policies, direction, me, peer);
        const expectedPorts = declared.get(pairKey(side, from, to)) ?? none;
        for (const p of ports) {
          const verdict = judgePort(peerVerdict, direction, me, peer, p.port, p.protocol);
          const why = expectedPorts.get(portKey(p));
          if (verdict.allowed === (why !== undefined)) continue;
          const key = `${pairKey(side, from, to)}:${portKey(p)}`;
          out.push(`${key}: ${why !== undefined ? `declared (${why}), but the policies deny it` : `not declared, but allowed by ${verdict.rules.join(', ')}`}`);
        }
      }
    }
  }
  return out;
}

/** The differences as one string for an assertion: empty when there are none. */
export function differencesReport(found: readonly string[]): string {
  return found.length > 0 ? [`${found.length} connection(s) differ from the contract (side sender → receiver:port/protocol):`, ...found].join('\n') : '';
}

/** Workloads (and Poolers) of the environment the cast has no pod for: the contract would not see them. */
export function uncastWorkloads(c: Cast): string[] {
  return c.objects.filter((o) => podTemplate(o) || o.kind === 'Pooler').map((o) => o.metadata.name).filter((n) => !c.endpoints.has(n));
}

/**
 * Peers that match every pod or namespace (`{}`, an empty namespaceSelector, an empty podSelector
 * alone would be every pod of the namespace) and rules with no peer at all: wide reach must be by
 * address (ipBlock), where a contract can see it.
 */
export function catchAllPeers(policies: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const p of policies) {
    for (const [side, rules] of [['ingress', p.spec.ingress ?? []], ['egress', p.spec.egress ?? []]] as const) {
      for (const [i, rule] of (rules as { from?: Record<string, unknown>[]; to?: Record<string, unknown>[] }[]).entries()) {
        const peers = (side === 'ingress' ? rule.from : rule.to) ?? [];
        const at = `${p.metadata.name} ${side}[${i}]`;
        if (peers.length === 0) out.push(`${at}: no peers (matches everything)`);
        for (const peer of peers) {
          const wide = Object.keys(peer).length === 0
            || (peer.namespaceSelector !== undefined && JSON.stringify(peer.namespaceSelector) === '{}')
            || (peer.namespaceSelector === undefined && peer.podSelector !== undefined && JSON.stringify(peer.podSelector) === '{}');
          if (wide) out.push(`${at}: catch-all peer ${JSON.stringify(peer)}`);
        }
      }
    }
  }
  return out;
}

/**
 * Policies whose policyTypes are absent, empty, or differ from the rule sections they have. The API
 * server defaults an absent or empty policyTypes (Ingress, plus Egress when there are egress rules):
 * the same verdicts, but a live object that differs from dist/ forever in Argo CD.
 */
export function unstatedPolicyTypes(policies: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const p of policies) {
    const types: string[] = p.spec.policyTypes ?? [];
    if (types.length === 0) {
      out.push(`${p.metadata.name}: no policyTypes`);
      continue;
    }
    const expected = [...(p.spec.ingress !== undefined ? ['Ingress'] : []), ...(p.spec.egress !== undefined ? ['Egress'] : [])];
    // default-deny has both types and no rules at all.
    if (expected.length > 0 && JSON.stringify(types) !== JSON.stringify(expected)) {
      out.push(`${p.metadata.name}: policyTypes ${JSON.stringify(types)} but rules for ${JSON.stringify(expected)}`);
    }
  }
  return out;
}
