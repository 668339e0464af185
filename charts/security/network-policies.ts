/**
 * Every NetworkPolicy of the namespace, rendered from the flows of the model
 * (environments/model/flows.ts): a default deny, then one policy per group of pods with exactly the
 * flows that name it, the receiving end as ingress and the sending end as egress of the same entry.
 * Ports are the pods' container ports: a policy sees traffic after a Service translated its port.
 */
import { Construct } from 'constructs';
import type {
  INetworkPolicyEgressRule, INetworkPolicyIngressRule, INetworkPolicyPeer, INetworkPolicyPort,
} from 'kubernetes-models/networking.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { Flow, Party, PolicySubject, PortSpec } from '../../environments/model/flows';
import type { AppIdentity } from '../../environments/model/identity';
import { FIXED_NAMES } from '../../environments/model/names';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';

export interface NetworkPoliciesProps {
  /** Namespace and labels of the application. */
  readonly identity: AppIdentity;
  /** Every flow of the environment. */
  readonly flows: readonly Flow[];
  /** The groups of pods that get a policy; every one of our pods a flow names must be one of them. */
  readonly subjects: readonly PolicySubject[];
}

function peers(party: Party): INetworkPolicyPeer[] {
  switch (party.kind) {
    case 'own':
      return [{ podSelector: party.selector }];
    case 'other':
      return [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': party.namespace } },
        ...(party.podLabels ? { podSelector: { matchLabels: { ...party.podLabels } } } : {}),
      }];
    case 'addresses':
      return party.blocks.map((b) => ({ ipBlock: { cidr: b.cidr, ...(b.except ? { except: [...b.except] } : {}) } }));
  }
}

/**
 * One rule per set of ports, peers in the order the flows name them: the same set of flows always
 * renders the same rules, however they were grouped in the table.
 */
interface Rule { readonly peers: INetworkPolicyPeer[]; readonly ports: INetworkPolicyPort[] }

function rules(flows: readonly { peers: readonly Party[]; ports: readonly PortSpec[] }[]): Rule[] {
  const byPorts = new Map<string, Rule>();
  for (const f of flows) {
    const key = JSON.stringify(f.ports);
    const rule: Rule = byPorts.get(key) ?? { peers: [], ports: f.ports.map((p) => ({ protocol: p.protocol, port: p.port })) };
    for (const peer of f.peers.flatMap(peers)) {
      if (!rule.peers.some((known) => JSON.stringify(known) === JSON.stringify(peer))) rule.peers.push(peer);
    }
    byPorts.set(key, rule);
  }
  return [...byPorts.values()];
}

export class NetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const { identity, flows, subjects } = props;
    const isSubject = new Set(subjects.map((s) => s.pods));
    for (const f of flows) {
      const unguarded = [...f.from, ...f.to].find((p) => p.kind === 'own' && !isSubject.has(p));
      // A flow to or from pods no policy selects would be half enforced: a bug of the model.
      if (unguarded) throw new Error(`the flow "${f.why}" names ${unguarded.name}, which no NetworkPolicy selects`);
    }

    new ModelObject(this, FIXED_NAMES.defaultDeny, new NetworkPolicy({
      metadata: { name: FIXED_NAMES.defaultDeny, namespace: identity.namespace, labels: recommendedLabels(identity, FIXED_NAMES.defaultDeny, 'network-policy') },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }));

    for (const [i, s] of subjects.entries()) {
      const ingress: INetworkPolicyIngressRule[] = rules(flows.filter((f) => f.to.includes(s.pods)).map((f) => ({ peers: f.from, ports: f.ports })))
        .map((r) => ({ from: r.peers, ports: r.ports }));
      const egress: INetworkPolicyEgressRule[] = rules(flows.filter((f) => f.from.includes(s.pods)).map((f) => ({ peers: f.to, ports: f.ports })))
        .map((r) => ({ to: r.peers, ports: r.ports }));
      // Ids by position: two subjects may share a name (a service named like a fixed policy), which
      // synthesis then reports as two objects for one file instead of failing here.
      new ModelObject(this, `policy-${i}-${s.name}`, new NetworkPolicy({
        metadata: { name: s.name, namespace: identity.namespace, labels: recommendedLabels(identity, s.labelName, 'network-policy') },
        spec: {
          podSelector: s.pods.selector,
          policyTypes: [...s.types],
          ...(s.types.includes('Ingress') ? { ingress } : {}),
          ...(s.types.includes('Egress') ? { egress } : {}),
        },
      }));
    }
  }
}
