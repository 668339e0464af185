/**
 * Who may reach PostgreSQL and PgBouncer under the namespace's default deny: the services that use
 * the database (through the pooler, or directly for session features), the dump job, the
 * instances among themselves (replication, status checks), the operator (its status endpoint) and Prometheus.
 * Their own egress: each other, the object store and the Kubernetes API that the operator's
 * instance manager inside every pod talks to.
 */
import { Construct } from 'constructs';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { Environment } from '../../environments/schema';
import { appMetadata, selectorLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { dataEndpoints, POSTGRES_PORT } from '../common/names';
import { KUBERNETES_API_EGRESS, namespacePeer, objectStorageEgress, podPeer, PROMETHEUS_POD_LABELS, tcp } from '../common/network';

/** Status port of the operator's instance manager, in instance and pooler pods. */
export const INSTANCE_MANAGER_PORT = 8000;
/** Metrics ports of the instances and of PgBouncer. */
export const POSTGRES_METRICS_PORT = 9187;
export const PGBOUNCER_METRICS_PORT = 9127;

export interface PostgresNetworkPoliciesProps {
  readonly env: Environment;
}

export class PostgresNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: PostgresNetworkPoliciesProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const users = Object.entries(env.services).filter(([, s]) => s.uses.includes('postgres')).map(([n]) => podPeer(selectorLabels(env, n)));
    const operator = namespacePeer(env.data.postgres.operatorNamespace);
    const prometheus = namespacePeer(env.monitoringNamespace, PROMETHEUS_POD_LABELS);
    const instances = { podSelector: data.postgres.instancePodSelector };
    // The dump reads a standby; the other backup jobs never talk to PostgreSQL.
    const dumpJob = podPeer(selectorLabels(env, data.backups.databaseBackupJob));
    const poolers = podPeer(data.postgres.poolerPodLabels);

    new ModelObject(this, 'instances', new NetworkPolicy({
      metadata: appMetadata(env, data.postgres.cluster, 'postgresql', 'network-policy'),
      spec: {
        podSelector: data.postgres.instancePodSelector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [poolers, instances, dumpJob, ...users], ports: [tcp(POSTGRES_PORT)] },
          // The operator polls every instance's status; since CloudNativePG 1.27 the primary also
          // asks the other instances before it decides it is isolated (liveness pinger), so
          // without this a short loss of the API server makes the primary fail liveness.
          { from: [operator, instances], ports: [tcp(INSTANCE_MANAGER_PORT)] },
          { from: [prometheus], ports: [tcp(POSTGRES_METRICS_PORT)] },
        ],
        egress: [
          { to: [instances], ports: [tcp(POSTGRES_PORT), tcp(INSTANCE_MANAGER_PORT)] },
          // WAL and base backups to the object store; the Kubernetes API for the instance manager.
          objectStorageEgress(env.objectStorage),
          KUBERNETES_API_EGRESS,
        ],
      },
    }));

    new ModelObject(this, 'pooler', new NetworkPolicy({
      metadata: appMetadata(env, data.postgres.pooler, 'pgbouncer', 'network-policy'),
      spec: {
        podSelector: { matchLabels: data.postgres.poolerPodLabels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          ...(users.length > 0 ? [{ from: users, ports: [tcp(POSTGRES_PORT)] }] : []),
          { from: [operator], ports: [tcp(INSTANCE_MANAGER_PORT)] },
          { from: [prometheus], ports: [tcp(PGBOUNCER_METRICS_PORT)] },
        ],
        egress: [{ to: [instances], ports: [tcp(POSTGRES_PORT)] }, KUBERNETES_API_EGRESS],
      },
    }));
  }
}
