/**
 * PgBouncer in front of the primary, in transaction mode: hundreds of application connections
 * share a few dozen server connections, and a switchover is a brief pause for the application
 * instead of a storm of reconnects.
 */
import { Construct } from 'constructs';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { Environment } from '../../environments/schema';
import {
  Pooler,
  PoolerSpecPgbouncerPoolMode,
  PoolerSpecTemplateSpecContainersResourcesLimits,
  PoolerSpecTemplateSpecContainersResourcesRequests,
  PoolerSpecType,
} from '../../imports/postgresql.cnpg.io';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { dataEndpoints } from '../../environments/model/names';

export interface PostgresPoolerProps {
  readonly env: Environment;
}

export class PostgresPooler extends Construct {
  constructor(scope: Construct, id: string, props: PostgresPoolerProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const p = env.data.postgres.pooler;
    const name = data.postgres.pooler;
    const podLabels = data.postgres.poolerPodLabels;
    const metadata = appMetadata(env, name, 'pgbouncer', 'database');

    new Pooler(this, 'Pooler', {
      metadata,
      spec: {
        cluster: { name: data.postgres.cluster },
        instances: p.instances,
        type: PoolerSpecType.RW,
        pgbouncer: {
          poolMode: PoolerSpecPgbouncerPoolMode.TRANSACTION,
          parameters: {
            max_client_conn: String(p.maxClientConnections),
            default_pool_size: String(p.defaultPoolSize),
            // Idle server connections are closed after a while, so a pool shrinks after a peak.
            server_idle_timeout: '300',
          },
        },
        template: {
          metadata: { labels: recommendedLabels(env, 'pgbouncer', 'database') },
          spec: {
            containers: [{
              name: 'pgbouncer',
              resources: {
                requests: {
                  cpu: PoolerSpecTemplateSpecContainersResourcesRequests.fromString(p.resources.requests.cpu),
                  memory: PoolerSpecTemplateSpecContainersResourcesRequests.fromString(p.resources.requests.memory),
                },
                limits: {
                  cpu: PoolerSpecTemplateSpecContainersResourcesLimits.fromString(p.resources.limits.cpu),
                  memory: PoolerSpecTemplateSpecContainersResourcesLimits.fromString(p.resources.limits.memory),
                },
              },
            }],
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: podLabels } },
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: podLabels } },
            ],
          },
        },
      },
    });

    // The operator gives the Cluster's instances a budget but not the pooler's pods.
    new ModelObject(this, 'PodDisruptionBudget', new PodDisruptionBudget({
      metadata,
      spec: { selector: { matchLabels: podLabels }, maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
    }));

    new ModelObject(this, 'PodMonitor', new PodMonitor({
      metadata: appMetadata(env, name, 'pgbouncer', 'monitoring'),
      spec: {
        selector: { matchLabels: podLabels },
        podMetricsEndpoints: [{ port: 'metrics', interval: '30s' }],
      },
    }));
  }
}
