/**
 * Redis with Sentinel: a StatefulSet of three members, each pod running redis-server, a sentinel
 * and redis_exporter, so any one pod, node or zone can be lost and a sentinel majority (quorum 2)
 * promotes a replica. Around it: the ConfigMap it runs from, the password synced by External
 * Secrets, the headless Service that gives each member a stable DNS name, a PodDisruptionBudget
 * and a ServiceMonitor. Who may reach the members is the flows table's (environments/model/flows.ts,
 * rendered by charts/security/network-policies.ts).
 *
 * Clients never address a pod: they ask the sentinels (REDIS_SENTINEL_NODES) for the master of
 * the set (REDIS_SENTINEL_MASTER), as environments/model/injected-env.ts injects.
 */
import { createHash } from 'node:crypto';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Construct } from 'constructs';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer, IEnvVar, IProbe } from 'kubernetes-models/v1';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import type { AppIdentity } from '../../environments/model/identity';
import { REDIS_REPLICAS, type RedisEndpoints } from '../../environments/model/names';
import { REDIS_EXPORTER_PORT, REDIS_PORT, SENTINEL_PORT } from '../../environments/model/network';
import { REDIS_EXPORTER_IMAGE, REDIS_IMAGE, REDIS_IMAGE_UID } from '../common/images';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { SyncedSecret, type SecretStoreConfig } from '../common/synced-secret';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import {
  REDIS_POD_PATHS, REDIS_SCRIPT, redisSentinelConfigFiles, redisSentinelConfigProps, type RedisConfig, type RedisSentinelConfigProps,
} from './redis-sentinel-config';

export const REDIS_PORT_NAME = 'redis';
export const SENTINEL_PORT_NAME = 'sentinel';
export const METRICS_PORT_NAME = 'metrics';
/**
 * The `endpoint` label of the sentinels' series: the exporter serves them on the metrics port too,
 * and this tells them from redis-server's (whose `endpoint` is the port's name).
 */
export const SENTINEL_METRICS_ENDPOINT = 'sentinel';

/** The sentinel and the exporter are small and steady; Redis itself is sized in the configuration. */
const SENTINEL_RESOURCES = { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
const EXPORTER_RESOURCES = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } };

export interface RedisSentinelProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The set's names: StatefulSet, headless Service, members, master set, password Secret. */
  readonly endpoints: RedisEndpoints;
  /** Sizes, memory policy and storage, as configured. */
  readonly config: RedisConfig;
  /** Where External Secrets reads the password from, and the entry's key. */
  readonly password: { readonly store: SecretStoreConfig; readonly remoteKey: string };
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

/** An exec probe through the script in the ConfigMap. */
function scriptProbe(name: string, timing: { periodSeconds: number; failureThreshold: number }): IProbe {
  return {
    exec: { command: ['sh', `${REDIS_POD_PATHS.config}/${REDIS_SCRIPT}`, 'probe', name] },
    // The script bounds each redis-cli call to a few seconds; the kubelet's timeout is the backstop.
    timeoutSeconds: 5,
    periodSeconds: timing.periodSeconds,
    failureThreshold: timing.failureThreshold,
    successThreshold: 1,
  };
}

export class RedisSentinel extends Construct {
  /** What the ConfigMap was rendered from (the live test runs the same files with other addresses). */
  readonly configProps: RedisSentinelConfigProps;

  constructor(scope: Construct, id: string, props: RedisSentinelProps) {
    super(scope, id);
    const { identity, endpoints: redis, config } = props;
    const name = redis.name;
    const selector = redis.podLabels;
    const metadata = appMetadata(identity, { name, labelName: 'redis', component: 'cache' });
    this.configProps = redisSentinelConfigProps(redis, config);
    const files = redisSentinelConfigFiles(this.configProps);

    new SyncedSecret(this, 'password', {
      identity,
      store: props.password.store,
      name: redis.passwordSecret,
      labelName: 'redis',
      component: 'cache',
      remoteKey: props.password.remoteKey,
      properties: ['password'],
    });

    new ModelObject(this, 'ConfigMap', new ConfigMap({ metadata, data: files }));

    new ModelObject(this, 'HeadlessService', new Service({
      metadata: appMetadata(identity, { name: redis.headlessService, labelName: 'redis', component: 'cache' }),
      spec: {
        clusterIP: 'None',
        // Members must find each other (and Sentinel its peers) while they are still starting,
        // before any of them is ready: DNS names for not-ready pods too.
        publishNotReadyAddresses: true,
        selector,
        ports: [
          { name: REDIS_PORT_NAME, port: REDIS_PORT, targetPort: REDIS_PORT_NAME, protocol: 'TCP', appProtocol: 'redis' },
          { name: SENTINEL_PORT_NAME, port: SENTINEL_PORT, targetPort: SENTINEL_PORT_NAME, protocol: 'TCP', appProtocol: 'redis' },
          // Scraped through this Service too: Prometheus then also sees members that are not ready.
          { name: METRICS_PORT_NAME, port: REDIS_EXPORTER_PORT, targetPort: METRICS_PORT_NAME, protocol: 'TCP', appProtocol: 'http' },
        ],
      },
    }));

    const script = `${REDIS_POD_PATHS.config}/${REDIS_SCRIPT}`;
    const podName: IEnvVar = { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } };
    const password: IEnvVar = { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: redis.passwordSecret, key: 'password' } } };
    const configMount = { name: 'config', mountPath: REDIS_POD_PATHS.config, readOnly: true };
    const common = {
      imagePullPolicy: 'IfNotPresent',
      securityContext: restrictedContainerSecurityContext(),
      ...TERMINATION_MESSAGE,
    } as const;
    const sw = this.configProps.switchoverTimeoutSeconds;

    const redisContainer: IContainer = {
      name: 'redis',
      image: REDIS_IMAGE,
      command: ['sh', script, 'redis'],
      ports: [{ name: REDIS_PORT_NAME, containerPort: REDIS_PORT, protocol: 'TCP' }],
      env: [podName, password],
      resources: { requests: { ...config.resources.requests }, limits: { ...config.resources.limits } },
      // Start-up finds the master first (bounded redis-cli calls to every member); liveness then
      // tolerates a minute of failures. Loading a large AOF answers LOADING, which the probe
      // counts as alive: a restart would only start the load over.
      startupProbe: scriptProbe('redis-alive', { periodSeconds: 5, failureThreshold: 30 }),
      livenessProbe: scriptProbe('redis-alive', { periodSeconds: 10, failureThreshold: 6 }),
      readinessProbe: scriptProbe('redis-ready', { periodSeconds: 5, failureThreshold: 2 }),
      // A master hands over to a replica before it stops, so a rolling update or a drain costs
      // clients a reconnect rather than down-after-milliseconds of failed writes.
      lifecycle: { preStop: { exec: { command: ['sh', script, 'pre-stop'] } } },
      volumeMounts: [
        configMount,
        { name: 'data', mountPath: REDIS_POD_PATHS.data },
        { name: 'redis-runtime', mountPath: REDIS_POD_PATHS.redisRuntime },
      ],
      ...common,
    };

    const sentinelContainer: IContainer = {
      name: 'sentinel',
      image: REDIS_IMAGE,
      command: ['sh', script, 'sentinel'],
      ports: [{ name: SENTINEL_PORT_NAME, containerPort: SENTINEL_PORT, protocol: 'TCP' }],
      env: [podName, password],
      resources: SENTINEL_RESOURCES,
      // Start-up may wait for the master's DNS name (resolveTimeoutSeconds, less than this allows).
      startupProbe: scriptProbe('sentinel-alive', { periodSeconds: 5, failureThreshold: 30 }),
      livenessProbe: scriptProbe('sentinel-alive', { periodSeconds: 10, failureThreshold: 6 }),
      // Ready once it knows the master and can reach the quorum with its peers.
      readinessProbe: scriptProbe('sentinel-ready', { periodSeconds: 5, failureThreshold: 2 }),
      // The data volume read-only: the last master this member knew, should every member start at once.
      volumeMounts: [
        configMount,
        { name: 'data', mountPath: REDIS_POD_PATHS.data, readOnly: true },
        { name: 'sentinel-runtime', mountPath: REDIS_POD_PATHS.sentinelRuntime },
      ],
      ...common,
    };

    const exporterContainer: IContainer = {
      name: 'exporter',
      image: REDIS_EXPORTER_IMAGE,
      ports: [{ name: METRICS_PORT_NAME, containerPort: REDIS_EXPORTER_PORT, protocol: 'TCP' }],
      env: [
        { name: 'REDIS_ADDR', value: `redis://localhost:${REDIS_PORT}` },
        password,
      ],
      resources: EXPORTER_RESOURCES,
      livenessProbe: { httpGet: { path: '/health', port: METRICS_PORT_NAME, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
      readinessProbe: { httpGet: { path: '/health', port: METRICS_PORT_NAME, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
      ...common,
    };

    // Memory-backed: these hold the password, which must not reach the node's disk.
    const runtimeVolume = (volumeName: string) => ({ name: volumeName, emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } });

    new ModelObject(this, 'StatefulSet', new StatefulSet({
      metadata,
      spec: {
        replicas: REDIS_REPLICAS,
        serviceName: redis.headlessService,
        selector: { matchLabels: selector },
        // Parallel: the members start together and the script settles who is master (the
        // sentinels' answer, else a running master, else member 0 on the first start). With
        // OrderedReady, a restart of the whole set could deadlock: member 0 waits to be ready as a
        // replica of a master the controller has not started yet. Updates are unaffected: a
        // RollingUpdate still replaces one pod at a time and waits for it to be ready (a replica
        // only when its initial sync is done) before the next.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 5,
        // Deleting the StatefulSet or scaling it in never deletes a member's data.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: {
            labels: recommendedLabels(identity, 'redis', 'cache'),
            // A changed configuration rolls the members (one at a time) instead of waiting for
            // their next restart.
            annotations: { 'checksum/config': createHash('sha256').update(JSON.stringify(files)).digest('hex') },
          },
          spec: {
            // Redis never talks to the Kubernetes API: no token to steal.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
            securityContext: restrictedPodSecurityContext(REDIS_IMAGE_UID),
            // pre-stop (it returns by the end of its write pause, switchoverTimeoutSeconds), then
            // Redis's own shutdown (up to 10 s for replicas to catch up, then the AOF is flushed),
            // with room to spare.
            terminationGracePeriodSeconds: sw + 30,
            affinity: {
              // One member per node, always: two members on one node would be lost together, and
              // with them the quorum.
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } },
                ],
              },
            },
            topologySpreadConstraints: [{
              topologyKey: 'topology.kubernetes.io/zone',
              maxSkew: 1,
              // Preferred, not required: a member's volume is bound to its zone, and a hard rule
              // could then leave a restarted member Pending for good.
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
              nodeTaintsPolicy: 'Honor',
            }],
            containers: [redisContainer, sentinelContainer, exporterContainer],
            volumes: [
              { name: 'config', configMap: { name, defaultMode: 0o444 } },
              runtimeVolume('redis-runtime'),
              runtimeVolume('sentinel-runtime'),
            ],
          },
        },
        // With its apiVersion and kind, as the API server stores it: Argo CD compares the list whole.
        volumeClaimTemplates: [{
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data', labels: recommendedLabels(identity, 'redis', 'cache') },
          spec: {
            accessModes: ['ReadWriteOnce'],
            volumeMode: 'Filesystem',
            storageClassName: config.storage.storageClass,
            resources: { requests: { storage: config.storage.size } },
          },
        }],
      },
    }));

    new ModelObject(this, 'PodDisruptionBudget', new PodDisruptionBudget({
      metadata,
      spec: {
        selector: { matchLabels: selector },
        // One member at a time: two sentinels of three still make the quorum and elect a leader.
        maxUnavailable: 1,
        // Unlike the web services, a member that is not ready is not evicted past the budget: it may
        // be a replica in its initial sync whose sentinel still counts towards the quorum.
        unhealthyPodEvictionPolicy: 'IfHealthyBudget',
      },
    }));

    new ModelObject(this, 'ServiceMonitor', new ServiceMonitor({
      metadata: appMetadata(identity, { name, labelName: 'redis', component: 'monitoring' }),
      spec: {
        selector: { matchLabels: selector },
        endpoints: [
          { port: METRICS_PORT_NAME, path: '/metrics', interval: '30s', scheme: 'http' },
          // The exporter scrapes redis-server (REDIS_ADDR); its /scrape endpoint scrapes the pod's
          // sentinel on each request, with the same password: whether the sentinels see a master and
          // a quorum. Relabelled so its series (redis_up too) do not collide with redis-server's.
          {
            port: METRICS_PORT_NAME, path: '/scrape', params: { target: [`redis://localhost:${SENTINEL_PORT}`] }, interval: '30s', scheme: 'http',
            relabelings: [{ action: 'replace', targetLabel: 'endpoint', replacement: SENTINEL_METRICS_ENDPOINT }],
          },
        ],
      },
    }));
  }
}
