/**
 * What the API server defaults inside the list items of Kubernetes' own kinds: containers, their
 * ports, probes and env, volumes, a Service's ports, a NetworkPolicy's ports, a StatefulSet's claim
 * templates, an HPA's scaling policies. These defaults are Go code (defaulter functions), not a
 * schema, so this is a hand-written copy of the ones that reach list items, each naming the upstream
 * function it follows (k8s.io/kubernetes pkg/apis/<group>/<version>/defaults.go and the generated
 * zz_generated.defaults.go that calls them).
 *
 * The gate refuses an object these would change, as it refuses a custom resource its CRD would
 * default (pipeline/crd-defaults.ts): dist/ reads as what the cluster stores, so a reviewer sees a
 * probe's one-second timeout or a volume's 0644 where it is decided, and the update checks compare
 * like with like. (For built-in kinds Argo CD applies the same defaulters before it compares,
 * gitops-engine pkg/diff applyPatch, so these never show as drift there; CRDs' defaults do.)
 *
 * Fields outside list items (a Deployment's revisionHistoryLimit, a PodSpec's dnsPolicy) are left
 * to the API server: a strategic merge keeps them, and they read as the kind's documented default.
 * Not copied: the in-tree volume plugins' defaults (iSCSI, RBD, Azure Disk, ScaleIO; none emitted)
 * and the rounding of resource quantities to millis (SetDefaults_ResourceList).
 */
import type { K8sObject } from './k8s-object';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const items = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const field = (o: Json, key: string): Json | undefined => (isObject(o[key]) ? o[key] as Json : undefined);

/** Sets `key` to `value` where it is absent (Go's zero value: the field was not written). */
function orDefault(o: Json, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
}

/**
 * The tag the kubelet would pull, as parsers.ParseImageName reads it: "latest" when the reference
 * has neither a tag nor a digest. A registry host's port (`host:5000/x`) is not a tag.
 */
function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0];
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon >= 0) return lastSegment.slice(colon + 1);
  return image.includes('@') ? undefined : 'latest';
}

/** SetDefaults_HTTPGetAction. */
function defaultHttpGet(action: Json | undefined): void {
  if (!action) return;
  orDefault(action, 'path', '/');
  orDefault(action, 'scheme', 'HTTP');
}

/** SetDefaults_Probe, with its handler's defaults (GRPCAction's `service` is `+default=""`). */
function defaultProbe(probe: Json | undefined): void {
  if (!probe) return;
  // Go's zero: a written 0 is stored as the default too.
  for (const [key, value] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (!probe[key]) probe[key] = value;
  }
  defaultHttpGet(field(probe, 'httpGet'));
  const grpc = field(probe, 'grpc');
  if (grpc && grpc.service === undefined) grpc.service = '';
}

/** SetDefaults_Container, and what SetObjectDefaults_PodTemplate does to each container's own lists. */
function defaultContainer(container: Json): void {
  if (!container.imagePullPolicy) {
    container.imagePullPolicy = imageTag(String(container.image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  orDefault(container, 'terminationMessagePath', '/dev/termination-log');
  orDefault(container, 'terminationMessagePolicy', 'File');
  for (const port of items(container.ports)) orDefault(port, 'protocol', 'TCP');
  for (const env of items(container.env)) defaultFieldRef(field(field(env, 'valueFrom') ?? {}, 'fieldRef'));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(field(container, probe));
  const lifecycle = field(container, 'lifecycle');
  for (const hook of ['postStart', 'preStop']) defaultHttpGet(field(field(lifecycle ?? {}, hook) ?? {}, 'httpGet'));
}

/** SetDefaults_ObjectFieldSelector. */
function defaultFieldRef(ref: Json | undefined): void {
  if (ref) orDefault(ref, 'apiVersion', 'v1');
}

/** 0644, the mode of SetDefaults_{Secret,ConfigMap,DownwardAPI,Projected}VolumeSource. */
const DEFAULT_FILE_MODE = 0o644;

/** SetDefaults_PersistentVolumeClaimSpec. */
function defaultClaimSpec(spec: Json | undefined): void {
  if (spec) orDefault(spec, 'volumeMode', 'Filesystem');
}

/** SetDefaults_Volume and its sources' defaulters. */
function defaultVolume(volume: Json): void {
  const sources = Object.keys(volume).filter((k) => k !== 'name');
  if (sources.length === 0) volume.emptyDir = {};
  const hostPath = field(volume, 'hostPath');
  if (hostPath) orDefault(hostPath, 'type', '');
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = field(volume, source);
    if (s && s.defaultMode === undefined) s.defaultMode = DEFAULT_FILE_MODE;
  }
  for (const item of items(field(volume, 'downwardAPI')?.items)) defaultFieldRef(field(item, 'fieldRef'));
  for (const projected of items(field(volume, 'projected')?.sources)) {
    for (const item of items(field(projected, 'downwardAPI')?.items)) defaultFieldRef(field(item, 'fieldRef'));
    const token = field(projected, 'serviceAccountToken');
    if (token) orDefault(token, 'expirationSeconds', 3600);
  }
  defaultClaimSpec(field(field(field(volume, 'ephemeral') ?? {}, 'volumeClaimTemplate') ?? {}, 'spec'));
}

/** The list items of a PodSpec, as SetObjectDefaults_PodTemplate defaults them. */
function defaultPodSpecLists(spec: Json | undefined): void {
  if (!spec) return;
  for (const volume of items(spec.volumes)) defaultVolume(volume);
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const container of items(spec[list])) defaultContainer(container);
  }
}

/** SetDefaults_Pod: a container's request of a resource it only limits is its limit (Pods only, not templates). */
function defaultPodRequests(spec: Json | undefined): void {
  for (const list of ['initContainers', 'containers']) {
    for (const container of items(spec?.[list])) {
      const resources = field(container, 'resources');
      const limits = field(resources ?? {}, 'limits');
      if (!resources || !limits) continue;
      const requests = field(resources, 'requests') ?? {};
      for (const [name, quantity] of Object.entries(limits)) if (requests[name] === undefined) requests[name] = quantity;
      resources.requests = requests;
    }
  }
}

/** The HPA's scaling rules as GenerateHPAScaleUpRules and GenerateHPAScaleDownRules complete them. */
const SCALE_UP_RULES = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
} as const;
/** Scale-down's stabilization window is the controller's flag (300 s by default), not defaulted in the object. */
const SCALE_DOWN_RULES = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } as const;

function defaultScalingRules(behavior: Json, direction: 'scaleUp' | 'scaleDown'): void {
  const rules = field(behavior, direction) ?? {};
  for (const [key, value] of Object.entries(direction === 'scaleUp' ? SCALE_UP_RULES : SCALE_DOWN_RULES)) {
    if (rules[key] === undefined || rules[key] === null) rules[key] = structuredClone(value);
  }
  behavior[direction] = rules;
}

/** Where each workload kind keeps its PodSpec. */
function podSpecOf(object: Json): Json | undefined {
  const spec = field(object, 'spec');
  switch (object.kind) {
    case 'Pod': return spec;
    case 'PodTemplate': return field(field(object, 'template') ?? {}, 'spec');
    case 'CronJob': return field(field(field(field(spec ?? {}, 'jobTemplate') ?? {}, 'spec') ?? {}, 'template') ?? {}, 'spec');
    case 'Deployment': case 'ReplicaSet': case 'StatefulSet': case 'DaemonSet': case 'Job': case 'ReplicationController':
      return field(field(spec ?? {}, 'template') ?? {}, 'spec');
    default: return undefined;
  }
}

/**
 * Applies, in place, the API server's defaults that land in list items of a Kubernetes kind (and
 * the NetworkPolicy's policyTypes, a list it makes). Other kinds are left as they are.
 */
export function applyCoreListDefaults(object: K8sObject): void {
  const spec = field(object, 'spec');
  const podSpec = podSpecOf(object);
  defaultPodSpecLists(podSpec);
  if (object.kind === 'Pod') defaultPodRequests(podSpec);
  if (!spec) return;
  switch (object.kind) {
    case 'StatefulSet':
      // SetObjectDefaults_StatefulSet runs SetDefaults_PersistentVolumeClaim too, whose only default
      // is a claim's status (Pending): status is the controller's, not written in a template.
      for (const claim of items(spec.volumeClaimTemplates)) defaultClaimSpec(field(claim, 'spec'));
      break;
    case 'Service':
      // SetDefaults_Service.
      for (const port of items(spec.ports)) {
        orDefault(port, 'protocol', 'TCP');
        if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
      }
      break;
    case 'NetworkPolicy':
      // SetDefaults_NetworkPolicyPort and SetDefaults_NetworkPolicy (networking/v1).
      for (const rule of [...items(spec.ingress), ...items(spec.egress)]) {
        for (const port of items(rule.ports)) orDefault(port, 'protocol', 'TCP');
      }
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
        spec.policyTypes = items(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
      }
      break;
    case 'HorizontalPodAutoscaler': {
      // SetDefaults_HorizontalPodAutoscalerBehavior (autoscaling/v2): once behavior is written,
      // both directions are completed, their policies lists included.
      const behavior = field(spec, 'behavior');
      if (behavior && String(object.apiVersion) === 'autoscaling/v2') {
        defaultScalingRules(behavior, 'scaleUp');
        defaultScalingRules(behavior, 'scaleDown');
      }
      break;
    }
    default:
  }
}
