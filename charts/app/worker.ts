/**
 * One worker of the application: a long-running process that serves no HTTP to anyone (a queue
 * consumer, a mail sender, a renderer). Its ServiceAccount, Deployment and, as the configuration
 * asks, HorizontalPodAutoscaler, PodDisruptionBudget and PodMonitor. No Service and no routes:
 * nothing sends it requests, so it has no readiness either.
 */
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Construct } from 'constructs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { selectorLabels } from '../../environments/model/identity';
import type { WorkerConfig } from '../../environments/schema';
import { NO_LIVENESS_ANNOTATION } from '../../pipeline/policy';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import { imageReference, workloadEnv } from './web-service';
import { autoscalerSpec, deploymentBasics, disruptionBudgetSpec, maxReplicasOf, topologySpread, workloadPodBasics, workloadVolumes, type WorkloadProps } from './workload-parts';

export interface WorkerProps extends WorkloadProps {
  /** The worker's configuration, defaults already applied by the schema. */
  readonly worker: WorkerConfig;
}

/** Port name of the management server: the container's, the probes' and the PodMonitor's. */
export const MANAGEMENT_PORT_NAME = 'management';


/** The worker's liveness check as a probe with the given timing: its command, or its path on the management port. */
function probe(check: WorkerConfig['liveness'], timing: WorkerConfig['startup']): IProbe {
  const handler = check.command
    ? { exec: { command: [...check.command] } }
    : { httpGet: { path: check.path, port: MANAGEMENT_PORT_NAME, scheme: 'HTTP' as const } };
  const { periodSeconds, timeoutSeconds, failureThreshold } = timing;
  return { ...handler, periodSeconds, timeoutSeconds, failureThreshold, successThreshold: 1 };
}

export class Worker extends Construct {
  constructor(scope: Construct, id: string, props: WorkerProps) {
    super(scope, id);
    const { identity, name, worker: w } = props;
    const selector = selectorLabels(identity, name);
    const labels = recommendedLabels(identity, name, 'workload');
    const metadata = appMetadata(identity, { name, component: 'workload' });

    new ModelObject(this, 'ServiceAccount', new ServiceAccount({
      metadata,
      // No worker talks to the Kubernetes API; a mounted token would only be something to steal.
      automountServiceAccountToken: false,
    }));

    const { volumes, mounts } = workloadVolumes(w.writablePaths, props.uploads);
    const envVars = workloadEnv(props.injectedEnv ?? [], w.env);
    const { liveness } = w;
    // The same check twice: patient while the process starts, then at the configured pace.
    const probes = liveness.none !== undefined ? {} : { startupProbe: probe(liveness, w.startup), livenessProbe: probe(liveness, liveness) };

    const container: IContainer = {
      name,
      image: imageReference(w.image),
      imagePullPolicy: 'IfNotPresent',
      ...(w.command ? { command: [...w.command] } : {}),
      ...(w.args.length > 0 ? { args: [...w.args] } : {}),
      ...(w.managementPort !== undefined ? { ports: [{ name: MANAGEMENT_PORT_NAME, containerPort: w.managementPort, protocol: 'TCP' }] } : {}),
      env: envVars,
      resources: { requests: { ...w.resources.requests }, limits: { ...w.resources.limits } },
      ...probes,
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: mounts,
      ...TERMINATION_MESSAGE,
    };

    new ModelObject(this, 'Deployment', new Deployment({
      metadata,
      spec: {
        ...deploymentBasics(w, selector),
        template: {
          metadata: {
            labels,
            ...(liveness.none !== undefined ? { annotations: { [NO_LIVENESS_ANNOTATION]: liveness.none } } : {}),
          },
          spec: {
            ...workloadPodBasics(name, w.runAsUser, props.priorityClassName),
            // SIGTERM, then this long to finish the job in hand (or hand it back) before SIGKILL.
            terminationGracePeriodSeconds: w.stopGraceSeconds,
            topologySpreadConstraints: topologySpread(selector, props.zoneSpread),
            containers: [container],
            volumes,
          },
        },
      },
    }));

    if (w.autoscaling) {
      new ModelObject(this, 'HorizontalPodAutoscaler', new HorizontalPodAutoscaler({ metadata, spec: autoscalerSpec(name, w.autoscaling) }));
    }
    if (maxReplicasOf(w) > 1) {
      new ModelObject(this, 'PodDisruptionBudget', new PodDisruptionBudget({ metadata, spec: disruptionBudgetSpec(selector) }));
    }
    if (w.metrics) {
      // A PodMonitor: a worker has no Service for a ServiceMonitor to follow.
      new ModelObject(this, 'PodMonitor', new PodMonitor({
        metadata: { ...metadata, labels: recommendedLabels(identity, name, 'monitoring') },
        spec: {
          selector: { matchLabels: selector },
          podMetricsEndpoints: [{ port: MANAGEMENT_PORT_NAME, path: w.metrics.path, interval: w.metrics.interval, scheme: 'http' }],
        },
      }));
    }
  }
}
