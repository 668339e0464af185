/**
 * Every pod an environment runs, and the addresses around it, as endpoints for the NetworkPolicy
 * evaluator. Labels and ports come from the synthesized objects themselves (workload templates,
 * the CloudNativePG Cluster and Pooler plus what the operator adds to their pods), so a relabelled
 * workload cannot keep passing a flow test with stale labels. Strangers probe the edges: an
 * unlabelled pod beside ours, one in another namespace, and pods in another namespace (dressed with
 * our namespace's labels) wearing each of our pods' labels. Only what the environment has is cast:
 * no CloudNativePG pods (nor operator) without data.postgres, no object storage address without
 * objectStorage, no load balancer address of its own without gateway.loadBalancerCidrs.
 */
import { gatewayProxyPodLabels } from '../../environments/model/gateway';
import { ACME_SOLVER_POD_LABELS, ACME_SOLVER_PORT, DNS_NAMESPACE, DNS_POD_LABELS, DNS_PORT, INSTANCE_MANAGER_PORT, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT, PROMETHEUS_POD_LABELS } from '../../environments/model/network';
import type { Environment } from '../../environments/schema';
import type { K8sObject } from '../../pipeline/k8s-object';
import { podTemplate } from '../../pipeline/policy';
import { synthObjects } from '../../pipeline/synth';
import { isPod, type ContainerPort, type Endpoint, type Pod } from './network-policy-evaluator';
import { only } from './synth-construct';

/** Names of the two CloudNativePG instance pods of the cast (one of each role). */
export const PRIMARY = 'postgresql primary';
export const STANDBY = 'postgresql standby';
/** A pod of the Job CloudNativePG runs to clone a new instance from the primary (pg_basebackup). */
export const JOIN_JOB = 'postgresql join job';
/** A pod of the Job CloudNativePG runs to create the cluster's first instance (initdb). */
export const INITDB_JOB = 'postgresql initdb job';
export const UNLABELLED_HERE = 'unlabelled pod here';
export const IMPOSTOR_NAMESPACE = 'impostors';

export interface Cast {
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  /** Names of the pods in the namespace this project owns, whose policies must describe them. */
  readonly own: readonly string[];
  /** Every NetworkPolicy the environment synthesizes, all charts. */
  readonly policies: readonly K8sObject[];
  readonly objects: readonly K8sObject[];
  /** The endpoint of that name; throws for a name the cast does not have. */
  pod(name: string): Pod;
  endpoint(name: string): Endpoint;
}

function containerPorts(spec: K8sObject): ContainerPort[] {
  return [...(spec.initContainers ?? []).filter((c: K8sObject) => c.restartPolicy === 'Always'), ...(spec.containers ?? [])]
    .flatMap((c: K8sObject) => (c.ports ?? []).map((p: K8sObject) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })));
}

/**
 * The environment's pods and neighbours. `otherEnv` provides another Gateway's proxies (same
 * controller namespace, another owning Gateway), which must never be mistaken for this one's.
 */
export function networkCast(env: Environment, otherEnv: Environment, objects: readonly K8sObject[] = synthObjects(env).map((o) => o.object)): Cast {
  const ns = env.app.namespace;
  const namespaceLabels = only(objects, 'Namespace', ns).metadata.labels;
  const endpoints = new Map<string, Endpoint>();
  const own: string[] = [];
  let next = 0;
  // Pod IPs from the cluster's pod range, so ipBlock rules also meet pods, as they do with CNIs such as Calico.
  const podIp = () => `10.244.${Math.floor(next / 200)}.${(next++ % 200) + 2}`;
  const add = (name: string, endpoint: Endpoint) => {
    if (endpoints.has(name)) throw new Error(`two endpoints named ${name}`);
    endpoints.set(name, endpoint);
    if (isPod(endpoint) && endpoint.namespace === ns) own.push(name);
  };
  const ours = (name: string, labels: Record<string, string>, ports: ContainerPort[] = []) =>
    add(name, { namespace: ns, namespaceLabels, labels, ports, ip: podIp() });
  const theirs = (name: string, namespace: string, labels: Record<string, string>, ports: ContainerPort[] = []) =>
    add(name, { namespace, labels, ports, ip: podIp() });

  // Every workload the environment synthesizes (Deployments, StatefulSets, CronJobs...), by name.
  for (const o of objects) {
    const template = podTemplate(o);
    if (template) ours(o.metadata.name, template.metadata?.labels ?? {}, containerPorts(template.spec));
  }

  // CloudNativePG 1.30 (the pinned chart's operator) creates these pods. Instance pods: the
  // operator's labels (pkg/specs/pods.go), then the Cluster's inheritedMetadata over them
  // (utils.InheritLabels). Pooler pods: the Pooler's template labels, then the operator's over them
  // (podspec.Builder.WithLabel in pkg/specs/pgbouncer/deployments.go); since CloudNativePG 1.22
  // those include cnpg.io/cluster.
  const clusters = objects.filter((o) => o.kind === 'Cluster');
  if (clusters.length > 1) throw new Error(`expected at most one CloudNativePG Cluster, found ${clusters.length}`);
  // No Cluster, no CloudNativePG pods: the environment has no data.postgres.
  const cluster = clusters[0];
  if (cluster) {
    const clusterName: string = cluster.metadata.name;
    for (const [name, role, serial] of [[PRIMARY, 'primary', 1], [STANDBY, 'replica', 2]] as const) {
      ours(name, {
        'cnpg.io/cluster': clusterName,
        'cnpg.io/instanceName': `${clusterName}-${serial}`,
        'cnpg.io/podRole': 'instance',
        'cnpg.io/instanceRole': role,
        role,
        'app.kubernetes.io/name': 'postgresql',
        'app.kubernetes.io/instance': clusterName,
        'app.kubernetes.io/component': 'database',
        'app.kubernetes.io/managed-by': 'cloudnative-pg',
        ...cluster.spec.inheritedMetadata?.labels,
      }, [
        { name: 'postgresql', containerPort: POSTGRES_PORT, protocol: 'TCP' },
        { name: 'metrics', containerPort: POSTGRES_METRICS_PORT, protocol: 'TCP' },
        { name: 'status', containerPort: INSTANCE_MANAGER_PORT, protocol: 'TCP' },
      ]);
    }
    // Job pods (initdb, join, …: pkg/specs/jobs.go) carry cnpg.io/cluster and cnpg.io/jobRole but
    // no cnpg.io/podRole; a join streams the primary's data directory, so it needs the instances' flows.
    for (const [name, jobRole, serial] of [[INITDB_JOB, 'initdb', 1], [JOIN_JOB, 'join', 4]] as const) {
      ours(name, {
        'cnpg.io/cluster': clusterName,
        'cnpg.io/instanceName': `${clusterName}-${serial}`,
        'cnpg.io/jobRole': jobRole,
        'app.kubernetes.io/name': 'postgresql',
        'app.kubernetes.io/instance': clusterName,
        'app.kubernetes.io/component': 'database',
        'app.kubernetes.io/managed-by': 'cloudnative-pg',
      });
    }
  }
  for (const pooler of objects.filter((o) => o.kind === 'Pooler')) {
    ours(pooler.metadata.name, {
      ...pooler.spec.template?.metadata?.labels,
      'cnpg.io/poolerName': pooler.metadata.name,
      'cnpg.io/cluster': pooler.spec.cluster.name,
      'cnpg.io/podRole': 'pooler',
      'app.kubernetes.io/name': 'postgresql',
      'app.kubernetes.io/instance': pooler.spec.cluster.name,
      'app.kubernetes.io/component': 'pooler',
      'app.kubernetes.io/managed-by': 'cloudnative-pg',
    }, [
      { name: 'pgbouncer', containerPort: POSTGRES_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: PGBOUNCER_METRICS_PORT, protocol: 'TCP' },
    ]);
  }

  // cert-manager's HTTP-01 solver, created in the Certificate's namespace for each challenge.
  ours('acme-solver', { ...ACME_SOLVER_POD_LABELS, 'acme.cert-manager.io/http-domain': '1234567890', 'acme.cert-manager.io/http-token': '987654321' },
    [{ name: 'http', containerPort: ACME_SOLVER_PORT, protocol: 'TCP' }]);
  ours(UNLABELLED_HERE, {});

  // Platform pods in namespaces this project does not own (labels as their Helm charts set them).
  if (env.data.postgres) {
    theirs('cnpg-operator', env.data.postgres.operatorNamespace, { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': 'cnpg' });
  }
  theirs('gateway-proxy', env.gateway.proxyNamespace, { ...gatewayProxyPodLabels(env), 'app.kubernetes.io/managed-by': 'envoy-gateway' });
  theirs('other gateway\'s proxy', env.gateway.proxyNamespace, { ...gatewayProxyPodLabels(otherEnv), 'app.kubernetes.io/managed-by': 'envoy-gateway' });
  theirs('envoy-gateway-controller', env.gateway.proxyNamespace, { 'control-plane': 'envoy-gateway', 'app.kubernetes.io/name': 'gateway-helm' });
  theirs('prometheus', env.monitoringNamespace, { ...PROMETHEUS_POD_LABELS, 'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus' },
    [{ name: 'http-web', containerPort: 9090, protocol: 'TCP' }]);
  theirs('grafana', env.monitoringNamespace, { 'app.kubernetes.io/name': 'grafana' });
  theirs('kube-dns', DNS_NAMESPACE, { ...DNS_POD_LABELS }, [
    { name: 'dns', containerPort: DNS_PORT, protocol: 'UDP' },
    { name: 'dns-tcp', containerPort: DNS_PORT, protocol: 'TCP' },
    { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
  ]);
  theirs('metrics-server', DNS_NAMESPACE, { 'k8s-app': 'metrics-server' });
  theirs('unlabelled pod elsewhere', 'elsewhere', {});
  // A namespace dressed as ours (all but the name label, which the API server sets and nobody can
  // change), running pods dressed as each of ours.
  for (const name of own.filter((n) => n !== UNLABELLED_HERE)) {
    const pod = endpoints.get(name) as Pod;
    add(`impostor of ${name}`, { namespace: IMPOSTOR_NAMESPACE, namespaceLabels, labels: pod.labels, ports: pod.ports, ip: podIp() });
  }

  // Addresses outside the pod network: the API server's real address (private, per cluster), the
  // object storage (in its configured ranges, else public), the Gateway's load balancer where its
  // ranges are configured (else it is one of the internet's addresses), the internet, the cloud
  // metadata endpoint.
  add('api-server', { ip: '172.18.0.2' });
  if (env.objectStorage) add('object-storage', { ip: env.objectStorage.cidrs ? env.objectStorage.cidrs[0].split('/')[0] : '52.219.170.10' });
  if (env.gateway.loadBalancerCidrs) add('load-balancer', { ip: env.gateway.loadBalancerCidrs[0].split('/')[0] });
  add('internet', { ip: '93.184.216.34' });
  add('metadata-endpoint', { ip: '169.254.169.254' });

  const endpoint = (name: string): Endpoint => {
    const e = endpoints.get(name);
    if (!e) throw new Error(`no endpoint named ${name}; the cast has ${[...endpoints.keys()].join(', ')}`);
    return e;
  };
  return {
    endpoints,
    own,
    policies: objects.filter((o) => o.kind === 'NetworkPolicy'),
    objects,
    endpoint,
    pod(name) {
      const e = endpoint(name);
      if (!isPod(e)) throw new Error(`${name} is an address, not a pod`);
      return e;
    },
  };
}
