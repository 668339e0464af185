/**
 * One HTTP service of the application: its ServiceAccount, Deployment, Service, and, as the
 * configuration asks, HorizontalPodAutoscaler, PodDisruptionBudget and ServiceMonitor. Everything a
 * production review asks of a stateless web workload is decided here once for every service.
 */
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Construct } from 'constructs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer, IEnvVar, IProbe } from 'kubernetes-models/v1';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { envReferences } from '../../environments/env-references';
import { selectorLabels } from '../../environments/model/identity';
import type { InjectedVariable } from '../../environments/model/injected-env';
import { byCodepoint } from '../../environments/order';
import type { ImageConfig, ServiceConfig } from '../../environments/schema';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import { autoscalerSpec, deploymentBasics, disruptionBudgetSpec, maxReplicasOf, topologySpread, workloadPodBasics, workloadVolumes, type WorkloadProps } from './workload-parts';

export interface WebServiceProps extends WorkloadProps {
  /** The service's configuration, defaults already applied by the schema. */
  readonly service: ServiceConfig;
}

/** Port name shared by the container, the Service and the ServiceMonitor. */
export const HTTP_PORT_NAME = 'http';
/** The Service listens on 80 and forwards to the container's named port. */
export const SERVICE_PORT = 80;

/** `repository:tag@digest` when pinned, else `repository:tag`. */
export function imageReference(image: ImageConfig): string {
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
}

function probe(path: string, timing: { periodSeconds: number; timeoutSeconds: number; failureThreshold: number }): IProbe {
  return {
    httpGet: { path, port: HTTP_PORT_NAME, scheme: 'HTTP' },
    periodSeconds: timing.periodSeconds,
    timeoutSeconds: timing.timeoutSeconds,
    failureThreshold: timing.failureThreshold,
    successThreshold: 1,
  };
}

/** Injected connection settings as container env: literal values, or references to Secret keys. */
export function containerEnv(vars: readonly InjectedVariable[]): IEnvVar[] {
  return vars.map(({ name, value, secretKeyRef }) => (secretKeyRef ? { name, valueFrom: { secretKeyRef: { ...secretKeyRef } } } : { name, value }));
}


/**
 * The service's own variables in an order the kubelet can expand: it resolves `$(NAME)` only
 * against variables listed before, so each one comes after the ones it refers to. Otherwise the
 * order is by name, so it does not depend on how the configuration was written. A cycle cannot be
 * expanded in any order; its members keep name order.
 */
export function orderEnv(vars: Readonly<Record<string, string>>): IEnvVar[] {
  const pending = new Map(Object.entries(vars).sort(([a], [b]) => byCodepoint(a, b)));
  const out: IEnvVar[] = [];
  while (pending.size > 0) {
    const ready = [...pending].find(([, value]) => envReferences(value).every((ref) => !pending.has(ref)))
      ?? [...pending][0];
    out.push({ name: ready[0], value: ready[1] });
    pending.delete(ready[0]);
  }
  return out;
}

/**
 * A variable that is exactly `$(NAME)` of an injected secret (`SPRING_DATASOURCE_PASSWORD:
 * $(DATABASE_PASSWORD)`) reads the same Secret key itself: the same value, and no secret-looking
 * name set by `value`, which admission checkers (Polaris' sensitiveContainerEnvVar) refuse.
 */
export function secretAliases(vars: readonly IEnvVar[], injected: readonly InjectedVariable[]): IEnvVar[] {
  const secrets = new Map(injected.filter((v) => v.secretKeyRef).map((v) => [v.name, v.secretKeyRef!]));
  return vars.map((v) => {
    const ref = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(v.value ?? '')?.[1];
    const secret = ref === undefined ? undefined : secrets.get(ref);
    return secret ? { name: v.name, valueFrom: { secretKeyRef: { ...secret } } } : v;
  });
}

/**
 * A workload's container env: the injected settings first, so that its own variables (in an
 * order the kubelet can expand) can refer to them with $(VAR).
 */
export function workloadEnv(injected: readonly InjectedVariable[], own: Readonly<Record<string, string>>): IEnvVar[] {
  return [...containerEnv(injected), ...secretAliases(orderEnv(own), injected)];
}

export class WebService extends Construct {
  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    const { identity, name, service: s } = props;
    const selector = selectorLabels(identity, name);
    const labels = recommendedLabels(identity, name, 'workload');
    const metadata = appMetadata(identity, { name, component: 'workload' });

    new ModelObject(this, 'ServiceAccount', new ServiceAccount({
      metadata,
      // No service talks to the Kubernetes API; a mounted token would only be something to steal.
      automountServiceAccountToken: false,
    }));

    const { volumes, mounts } = workloadVolumes(s.writablePaths, props.uploads);

    const envVars = workloadEnv(props.injectedEnv ?? [], s.env);

    const container: IContainer = {
      name,
      image: imageReference(s.image),
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: HTTP_PORT_NAME, containerPort: s.port, protocol: 'TCP' }],
      env: envVars,
      resources: { requests: { ...s.resources.requests }, limits: { ...s.resources.limits } },
      startupProbe: probe(s.health.startupPath ?? s.health.livenessPath, s.health.startup),
      readinessProbe: probe(s.health.readinessPath, s.health.readiness),
      livenessProbe: probe(s.health.livenessPath, s.health.liveness),
      // Keeps serving while endpoints and the gateway stop sending new requests; SIGTERM comes after.
      // The API server refuses a zero-second sleep (before Kubernetes 1.33), so none means no hook.
      ...(s.shutdown.preStopSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: s.shutdown.preStopSeconds } } } } : {}),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: mounts,
      ...TERMINATION_MESSAGE,
    };

    new ModelObject(this, 'Deployment', new Deployment({
      metadata,
      spec: {
        ...deploymentBasics(s, selector),
        template: {
          metadata: { labels },
          spec: {
            ...workloadPodBasics(name, s.runAsUser, props.priorityClassName),
            terminationGracePeriodSeconds: s.shutdown.preStopSeconds + s.shutdown.drainSeconds + 5,
            topologySpreadConstraints: topologySpread(selector, props.zoneSpread),
            containers: [container],
            volumes,
          },
        },
      },
    }));

    new ModelObject(this, 'Service', new Service({
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP', appProtocol: 'http' }],
      },
    }));

    if (s.autoscaling) {
      new ModelObject(this, 'HorizontalPodAutoscaler', new HorizontalPodAutoscaler({ metadata, spec: autoscalerSpec(name, s.autoscaling) }));
    }

    if (maxReplicasOf(s) > 1) {
      new ModelObject(this, 'PodDisruptionBudget', new PodDisruptionBudget({ metadata, spec: disruptionBudgetSpec(selector) }));
    }

    if (s.metrics) {
      new ModelObject(this, 'ServiceMonitor', new ServiceMonitor({
        metadata: { ...metadata, labels: recommendedLabels(identity, name, 'monitoring') },
        spec: {
          selector: { matchLabels: selector },
          endpoints: [{ port: HTTP_PORT_NAME, path: s.metrics.path, interval: s.metrics.interval, scheme: 'http' }],
        },
      }));
    }
  }
}
