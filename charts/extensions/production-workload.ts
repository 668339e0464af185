/**
 * productionWorkload(): what a cdk8s-plus-28 workload needs before the policy gate takes it. The
 * defaults cdk8s-plus writes, and what production policy asks instead:
 * - the selector and pod labels: cdk8s-plus selects by `cdk8s.io/metadata.addr`, a hash of the
 *   construct path that changes when the code moves; here the recommended labels, and the
 *   selector the workload's flows (its NetworkPolicy) select by;
 * - `replicas: 2`: the configured count, or none for a workload an HPA scales;
 * - no seccomp profile, no `drop: [ALL]`, `fsGroupChangePolicy: Always`: the project's restricted
 *   pod and container security contexts;
 * - `imagePullPolicy: Always`: IfNotPresent (images are pinned; every start would otherwise wait
 *   on the registry);
 * - and what cdk8s-plus leaves out: service links, a PriorityClass, the termination message, the
 *   spread over zones and nodes, a PodDisruptionBudget when more than one pod runs.
 * The changes are JSON patches on the synthesized object, so they hold whatever the construct's
 * props said; the gate still checks the result (probes and resources remain the author's).
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ExtensionContext } from '../../environments/extension';
import { selectorLabels } from '../../environments/model/identity';
import type { InjectedVariable } from '../../environments/model/injected-env';
import { disruptionBudgetSpec, topologySpread } from '../app/workload-parts';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';

export interface ProductionWorkloadProps {
  /** The context the extension's build was given. */
  readonly context: ExtensionContext;
  /**
   * The workload's name: its objects', and its pods' `app.kubernetes.io/name`, under which the
   * extension declares its flows (`workloads.<name>`).
   */
  readonly name: string;
  /** UID and GID the containers run as; the image must work under them. */
  readonly runAsUser: number;
  /** Fixed replica count. @default none written (a HorizontalPodAutoscaler owns it) */
  readonly replicas?: number;
  /** Most replicas an HPA may run, when one scales it. @default replicas */
  readonly maxReplicas?: number;
  /** Its PriorityClass: `serving` for long-running pods. @default 'serving' */
  readonly priority?: 'serving' | 'batch';
  /** Spread over zones: `required` only where every node carries a zone label. @default the environment's zoneSpread */
  readonly zoneSpread?: 'preferred' | 'required';
}

/**
 * A cdk8s-plus-28 Deployment. (Not a StatefulSet: the headless Service cdk8s-plus makes for one
 * selects by the hash label this replaces; write a StatefulSet and its Service as API objects.)
 */
type Workload = kplus.Deployment;

/** Whether a container kept the resources cdk8s-plus-28 gives one that names none (container.js, defaultResourceSpec). */
function hasDefaultResources(container: kplus.Container): boolean {
  const r = container.resources;
  return r?.cpu?.request?.amount === '1000m' && r.cpu.limit?.amount === '1500m'
    && r.memory?.request?.toMebibytes() === 512 && r.memory.limit?.toMebibytes() === 2048;
}

export function productionWorkload(workload: Workload, props: ProductionWorkloadProps): void {
  const { identity, priorityClasses } = props.context;
  for (const c of [...workload.initContainers, ...workload.containers]) {
    if (hasDefaultResources(c)) {
      throw new Error(`${props.name}: container ${c.name} has cdk8s-plus-28's default resources (1 CPU requested, 2 GiB of memory as its limit): give it resources sized to its work`);
    }
  }
  const object = ApiObject.of(workload);
  const labels = recommendedLabels(identity, props.name, 'workload');
  const selector = selectorLabels(identity, props.name);
  const podSecurity = restrictedPodSecurityContext(props.runAsUser);
  for (const [key, value] of Object.entries(labels)) object.metadata.addLabel(key, value);
  object.addJsonPatch(
    JsonPatch.replace('/metadata/name', props.name),
    JsonPatch.replace('/spec/selector', { matchLabels: selector }),
    JsonPatch.replace('/spec/template/metadata/labels', labels),
    props.replicas === undefined ? JsonPatch.remove('/spec/replicas') : JsonPatch.replace('/spec/replicas', props.replicas),
    JsonPatch.replace('/spec/template/spec/securityContext', podSecurity),
    JsonPatch.add('/spec/template/spec/enableServiceLinks', false),
    JsonPatch.add('/spec/template/spec/automountServiceAccountToken', false),
    JsonPatch.add('/spec/template/spec/priorityClassName', priorityClasses[props.priority ?? 'serving']),
    JsonPatch.add('/spec/template/spec/topologySpreadConstraints', topologySpread(selector, props.zoneSpread ?? props.context.zoneSpread)),
    // Init containers too. The patches cover the containers there are now: call this after the
    // last one is added (one added later is left as cdk8s-plus wrote it, and the gate says so).
    ...(['initContainers', 'containers'] as const).flatMap((list) => (list === 'containers' ? workload.containers : workload.initContainers).flatMap((_, i) => [
      JsonPatch.replace(`/spec/template/spec/${list}/${i}/imagePullPolicy`, 'IfNotPresent'),
      JsonPatch.replace(`/spec/template/spec/${list}/${i}/securityContext`, restrictedContainerSecurityContext()),
      JsonPatch.add(`/spec/template/spec/${list}/${i}/terminationMessagePath`, TERMINATION_MESSAGE.terminationMessagePath),
      JsonPatch.add(`/spec/template/spec/${list}/${i}/terminationMessagePolicy`, TERMINATION_MESSAGE.terminationMessagePolicy),
    ])),
  );
  if ((props.maxReplicas ?? props.replicas ?? 1) > 1) {
    new ModelObject(workload, 'PodDisruptionBudget', new PodDisruptionBudget({
      metadata: appMetadata(identity, { name: props.name, component: 'workload' }),
      spec: disruptionBudgetSpec(selector),
    }));
  }
}

/**
 * The settings context.injectedEnv() gives, as a cdk8s-plus-28 container's envVariables: plain
 * values, and Secret keys by reference (the Secrets exist already: the data tier's).
 */
export function injectedEnvVariables(scope: Construct, vars: readonly InjectedVariable[]): Record<string, kplus.EnvValue> {
  return Object.fromEntries(vars.map((v) => {
    if (!v.secretKeyRef) return [v.name, kplus.EnvValue.fromValue(v.value ?? '')];
    // One reference per Secret in the scope, however many workloads of it read the Secret.
    const id = `secret-${v.secretKeyRef.name}`;
    const secret = (scope.node.tryFindChild(id) as kplus.ISecret | undefined) ?? kplus.Secret.fromSecretName(scope, id, v.secretKeyRef.name);
    return [v.name, kplus.EnvValue.fromSecretValue({ secret, key: v.secretKeyRef.key })];
  }));
}
