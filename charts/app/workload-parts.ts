/**
 * What a service and a worker decide alike, as small pure helpers: their scratch and uploads
 * volumes, how their pods spread, how they scale and how many may be disrupted at once. One
 * statement each, so a change reaches every long-running workload of the application.
 */
import type { IHorizontalPodAutoscalerSpec } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerSpec';
import type { IPodDisruptionBudgetSpec } from 'kubernetes-models/policy/v1/PodDisruptionBudgetSpec';
import type { ITopologySpreadConstraint, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { AppIdentity } from '../../environments/model/identity';
import type { InjectedVariable } from '../../environments/model/injected-env';
import { scratchVolumeName } from '../../environments/model/names';
import type { ServiceConfig } from '../../environments/schema';
import { restrictedPodSecurityContext } from '../common/pod-security';

/** The uploaded-files volume as a workload mounts it. */
export interface UploadsMount {
  readonly claimName: string;
  readonly mountPath: string;
}

/** What a long-running workload's construct (WebService, Worker) takes beside its configuration. */
export interface WorkloadProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Key in the configuration; also the name of every object made here. */
  readonly name: string;
  /** Connection settings of the data components it uses (environments/model/injected-env.ts). @default none */
  readonly injectedEnv?: readonly InjectedVariable[];
  /** The uploaded-files volume, mounted when the workload uses it. @default not mounted */
  readonly uploads?: UploadsMount;
  /**
   * Spread over zones: `required` only where every node carries `topology.kubernetes.io/zone`.
   * @default 'preferred'
   */
  readonly zoneSpread?: 'preferred' | 'required';
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

/** One memory-capped emptyDir per writable path (the root filesystem is read-only), and the uploads volume when used. */
export function workloadVolumes(writablePaths: readonly string[], uploads?: UploadsMount): { volumes: IVolume[]; mounts: IVolumeMount[] } {
  const volumes: IVolume[] = writablePaths.map((path) => ({ name: scratchVolumeName(path), emptyDir: { sizeLimit: '256Mi' } }));
  const mounts: IVolumeMount[] = writablePaths.map((path) => ({ name: scratchVolumeName(path), mountPath: path }));
  if (uploads) {
    // Shared by every replica (ReadWriteMany): an upload must be readable from whichever pod
    // handles the next request or job.
    volumes.push({ name: 'uploads', persistentVolumeClaim: { claimName: uploads.claimName } });
    mounts.push({ name: 'uploads', mountPath: uploads.mountPath });
  }
  return { volumes, mounts };
}

/** Pods spread over zones and nodes, each revision on its own. */
export function topologySpread(selector: Readonly<Record<string, string>>, zoneSpread: 'preferred' | 'required' | undefined): ITopologySpreadConstraint[] {
  return [
    {
      topologyKey: 'topology.kubernetes.io/zone',
      maxSkew: 1,
      // Required only where the environment says its nodes are labelled with zones: on
      // a cluster without the label no pod would ever schedule.
      whenUnsatisfiable: zoneSpread === 'required' ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector: { matchLabels: { ...selector } },
      // Spread each revision on its own, so a rollout does not pile new pods into one zone.
      matchLabelKeys: ['pod-template-hash'],
      // A lost zone's nodes are tainted unreachable; counted as empty domains they would
      // hold the skew at zero and leave replacement pods Pending in the zones that remain.
      nodeTaintsPolicy: 'Honor',
    },
    {
      topologyKey: 'kubernetes.io/hostname',
      maxSkew: 1,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { ...selector } },
      matchLabelKeys: ['pod-template-hash'],
      nodeTaintsPolicy: 'Honor',
    },
  ];
}

/** A Deployment's autoscaling on CPU and memory, with the configured pace in each direction. */
export function autoscalerSpec(deployment: string, a: NonNullable<ServiceConfig['autoscaling']>): IHorizontalPodAutoscalerSpec {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilization } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: a.targetMemoryUtilization } } },
    ],
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Percent', value: a.scaleUpPercentPerMinute, periodSeconds: 60 },
          { type: 'Pods', value: a.scaleUpPodsPerMinute, periodSeconds: 60 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: a.scaleDownStabilizationSeconds,
        selectPolicy: 'Min',
        policies: [{ type: 'Percent', value: a.scaleDownPercentPerMinute, periodSeconds: 60 }],
      },
    },
  };
}

/** Most replicas the workload can run (its HPA's maximum), which decides whether it gets a PodDisruptionBudget. */
export const maxReplicasOf = (s: Pick<ServiceConfig, 'replicas' | 'autoscaling'>): number => s.autoscaling?.maxReplicas ?? s.replicas ?? 1;

/** One pod of the workload disrupted at a time. */
export function disruptionBudgetSpec(selector: Readonly<Record<string, string>>): IPodDisruptionBudgetSpec {
  return {
    selector: { matchLabels: { ...selector } },
    // One pod at a time: with at least two replicas a drain always leaves one running, and
    // unlike minAvailable it never blocks a drain when the HPA sits at its minimum.
    maxUnavailable: 1,
    // A crash-looping pod must not block node drains.
    unhealthyPodEvictionPolicy: 'AlwaysAllow',
  };
}

/**
 * How a long-running workload's Deployment rolls: the HPA's replicas or the configured count, a
 * new pod ready before an old one goes (a service keeps its capacity; a worker's old pod may be
 * finishing a job), and history enough to roll back.
 */
export function deploymentBasics(s: Pick<ServiceConfig, 'replicas' | 'autoscaling'>, selector: Readonly<Record<string, string>>) {
  return {
    // Under an HPA the replica count is the HPA's: a value here would fight it on every sync.
    ...(s.autoscaling ? {} : { replicas: s.replicas }),
    revisionHistoryLimit: 5,
    progressDeadlineSeconds: 600,
    selector: { matchLabels: { ...selector } },
    strategy: { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
  };
}

/** What every long-running workload's pod has: its own ServiceAccount with no token, no service links, restricted security. */
export function workloadPodBasics(name: string, runAsUser: number, priorityClassName: string | undefined) {
  return {
    serviceAccountName: name,
    ...(priorityClassName ? { priorityClassName } : {}),
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: restrictedPodSecurityContext(runAsUser),
  };
}
