/**
 * PgBouncer in front of the primary, in transaction mode: hundreds of application connections
 * share a few dozen server connections, and a switchover is a brief pause for the application
 * instead of a storm of reconnects.
 */
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Construct } from 'constructs';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import {
  Pooler,
  PoolerSpecPgbouncerPoolMode,
  PoolerSpecTemplateSpecContainersResourcesLimits,
  PoolerSpecTemplateSpecContainersResourcesRequests,
  PoolerSpecType,
} from '../../imports/postgresql.cnpg.io';
import { PGBOUNCER_GID, PGBOUNCER_IMAGE, PGBOUNCER_UID } from '../common/images';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';

/** The configuration of PgBouncer, defaults applied. */
export type PoolerConfig = NonNullable<Environment['data']['postgres']>['pooler'];

export interface PostgresPoolerProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The Pooler's name, which its Service (the application's database host) takes too. */
  readonly name: string;
  /** The Cluster it forwards to. Immutable: another cluster needs another Pooler. */
  readonly cluster: string;
  /** Instances, pool sizes and resources, as configured. */
  readonly config: PoolerConfig;
  /** Labels the operator puts on the Pooler's pods: what its budget, spread and monitor select. */
  readonly podLabels: Record<string, string>;
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class PostgresPooler extends Construct {
  constructor(scope: Construct, id: string, props: PostgresPoolerProps) {
    super(scope, id);
    const { identity, name, config: p, podLabels } = props;
    const metadata = appMetadata(identity, { name, labelName: 'pgbouncer', component: 'database' });

    new Pooler(this, 'Pooler', {
      metadata,
      spec: {
        cluster: { name: props.cluster },
        instances: p.instances,
        type: PoolerSpecType.RW,
        pgbouncer: {
          poolMode: PoolerSpecPgbouncerPoolMode.TRANSACTION,
          // The CRD's default, written out (test/crd-defaults.test.ts).
          paused: false,
          parameters: {
            max_client_conn: String(p.maxClientConnections),
            default_pool_size: String(p.defaultPoolSize),
            // Idle server connections are closed after a while, so a pool shrinks after a peak.
            server_idle_timeout: '300',
          },
        },
        template: {
          // CloudNativePG 1.30 sets app.kubernetes.io/name, instance, component and managed-by on
          // the pods itself, over anything given here (pkg/specs/pgbouncer/deployments.go): only
          // the label it does not own says whose application the pods are.
          metadata: { labels: { 'app.kubernetes.io/part-of': identity.app } },
          spec: {
            ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
            // What CloudNativePG 1.30 sets on the pods anyway (pkg/specs/pgbouncer/deployments.go
            // createPodSecurityContext and pkg/specs/containers.go GetSecurityContext, overriding
            // the template), stated so that admission checkers reading the Pooler see it.
            securityContext: {
              runAsNonRoot: true, runAsUser: PGBOUNCER_UID, runAsGroup: PGBOUNCER_GID, fsGroup: PGBOUNCER_GID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: 'pgbouncer',
              // The template's image wins over every other source (internal/controller/pooler_image.go).
              image: PGBOUNCER_IMAGE,
              securityContext: {
                runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
              },
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
      metadata: appMetadata(identity, { name, labelName: 'pgbouncer', component: 'monitoring' }),
      spec: {
        selector: { matchLabels: podLabels },
        podMetricsEndpoints: [{ port: 'metrics', interval: '30s' }],
      },
    }));
  }
}
