/**
 * Failure alerts of the application's Redis set (charts/data/redis-sentinel.ts): three members,
 * each a redis-server, a sentinel and redis_exporter v1.91.1 (test/fixtures/metrics/redis_exporter.txt
 * says where each name comes from). The exporter scrapes its own pod's redis-server; the
 * ServiceMonitor also has it scrape the pod's sentinel through its /scrape endpoint, whose series
 * carry `endpoint="sentinel"`: a sentinel answers with `redis_sentinel_*` (what it knows of the
 * master set, and whether it can reach a quorum), which redis-server's scrape never has.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import type { Model } from '../../environments/model/model';
import { REDIS_REPLICAS, type RedisEndpoints } from '../../environments/model/names';
import { METRICS_PORT_NAME, SENTINEL_METRICS_ENDPOINT } from '../data/redis-sentinel';
import { MIN_REPLICAS_TO_WRITE, SENTINEL_QUORUM } from '../data/redis-sentinel-config';
import { AlertRules, type Alert } from './alert-rules';

/**
 * Memory in use, as a share of maxmemory, that raises a ticket: at maxmemory Redis evicts keys (the
 * application's sessions among them) or refuses writes, depending on the policy.
 */
export const MEMORY_WARNING_RATIO = 0.9;

export interface RedisAlertsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The StatefulSet (what the alerts name), its headless Service (what is scraped) and master set. */
  readonly endpoints: Pick<RedisEndpoints, 'name' | 'headlessService' | 'masterSet'>;
  /** Members of the set. */
  readonly members: number;
  /** Sentinels that must agree before a failover. */
  readonly quorum: number;
  /** Replicas a master needs to take writes (min-replicas-to-write). */
  readonly minReplicasToWrite: number;
  /** maxmemory-policy, for what the memory alert says happens at the limit. */
  readonly maxmemoryPolicy: string;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** What the alerts of the model's Redis watch, as the data chart builds it; none without Redis. */
export function redisAlertsProps(model: Model, runbookBase: string): RedisAlertsProps | undefined {
  const { env, identity, data } = model;
  if (!env.data.redis || !data.redis) return undefined;
  return {
    identity,
    endpoints: data.redis,
    members: REDIS_REPLICAS,
    quorum: SENTINEL_QUORUM,
    minReplicasToWrite: MIN_REPLICAS_TO_WRITE,
    maxmemoryPolicy: env.data.redis.maxmemoryPolicy,
    runbookBase,
  };
}

/** The object's name. */
export const REDIS_ALERTS = 'redis-alerts';

/**
 * The series of the members' redis-servers, and of their sentinels: the ServiceMonitor scrapes
 * through the headless Service, whose name is the job.
 */
export function redisSelectors(namespace: string, headlessService: string): { readonly server: string; readonly sentinel: string } {
  const target = `namespace="${namespace}",job="${headlessService}"`;
  return { server: `${target},endpoint="${METRICS_PORT_NAME}"`, sentinel: `${target},endpoint="${SENTINEL_METRICS_ENDPOINT}"` };
}

/** What Redis does at maxmemory under a policy. */
function atLimit(policy: string): string {
  if (policy === 'noeviction') return 'it refuses writes';
  if (policy.startsWith('allkeys-')) return 'it evicts keys, the application\'s sessions among them';
  return 'it evicts keys that have an expiry, then refuses writes';
}

export class RedisAlerts extends Construct {
  constructor(scope: Construct, id: string, props: RedisAlertsProps) {
    super(scope, id);
    const { identity, endpoints: { name, headlessService, masterSet }, members, quorum } = props;
    const ns = identity.namespace;
    const { server, sentinel } = redisSelectors(ns, headlessService);
    // `service` names the StatefulSet, not the Service the series come through.
    const labels = { namespace: ns, service: name };

    const alerts: Alert[] = [
      {
        // A member's redis-server does not answer its exporter, or the member is gone. The set
        // serves with two; a rolling update restarts each member for under a minute.
        alert: 'RedisDown',
        expr: `(count(redis_up{${server}} == 1) or vector(0)) < ${members}`,
        for: '5m',
        severity: 'warning',
        labels,
        summary: `Redis ${name} runs with fewer than its ${members} members`,
        description: `Only {{ $value }} of the ${members} members of ${ns}/${name} have answered their exporter for 5 minutes: `
          + 'one more loss and the sentinels can no longer fail over.',
      },
      {
        // No member is master: every write of the application fails. Sentinel promotes a replica
        // within seconds of a master's loss (down-after-milliseconds, then an election).
        alert: 'RedisNoMaster',
        expr: `(count(redis_instance_info{${server},role="master"}) or vector(0)) == 0`,
        for: '1m',
        severity: 'critical',
        labels,
        summary: `Redis ${name} has no master`,
        description: `No member of ${ns}/${name} has reported the master role for a minute: the application cannot write to Redis, `
          + 'and the sentinels have not promoted a replica.',
      },
      {
        // Fewer sentinels than the quorum can reach a quorum: the next loss of the master is not
        // failed over. Usually two members are gone, and the master then has at most one replica.
        alert: 'RedisSentinelQuorumLost',
        expr: `(count(redis_sentinel_master_ckquorum_status{${sentinel},master_name="${masterSet}"} == 1) or vector(0)) < ${quorum}`,
        for: '2m',
        severity: 'critical',
        labels,
        summary: `Redis ${name}: the sentinels cannot reach their quorum`,
        description: `Only {{ $value }} sentinels of ${ns}/${name} have been able to reach a quorum (${quorum}) for master set ${masterSet} `
          + 'for 2 minutes: a master lost now is not replaced.',
      },
      {
        // A replica cut off from its master serves stale data and would lose writes if promoted.
        // An initial sync of the whole dataset takes a while, hence 5 minutes.
        alert: 'RedisReplicaLinkDown',
        expr: `redis_master_link_up{${server}} == 0`,
        for: '5m',
        severity: 'warning',
        labels,
        summary: `Redis replica {{ $labels.pod }} of ${name} is not replicating`,
        description: `The replica {{ $labels.pod }} of ${ns}/${name} has had no working link to its master {{ $labels.master_host }} for 5 minutes.`,
      },
      {
        // min-replicas-to-write: a master with fewer replicas connected refuses every write.
        alert: 'RedisReplicaLinkDown',
        expr: `redis_connected_slaves{${server}} < ${props.minReplicasToWrite}\nand on (pod) redis_instance_info{${server},role="master"}`,
        for: '1m',
        severity: 'critical',
        labels,
        summary: `Redis master {{ $labels.pod }} of ${name} has no replica: it refuses writes`,
        description: `The master {{ $labels.pod }} of ${ns}/${name} has had {{ $value }} replicas connected for a minute, fewer than the `
          + `${props.minReplicasToWrite} it needs to take writes (min-replicas-to-write): every write of the application fails.`,
      },
      {
        alert: 'RedisMemoryNearMax',
        expr: `redis_memory_used_bytes{${server}} / redis_memory_max_bytes{${server}} > ${MEMORY_WARNING_RATIO}\nand redis_memory_max_bytes{${server}} > 0`,
        // Below the limit, memory rises and falls with the load; 15 minutes above is the dataset.
        for: '15m',
        severity: 'warning',
        labels,
        summary: `Redis {{ $labels.pod }} of ${name} is near its maxmemory`,
        description: `{{ $labels.pod }} of ${ns}/${name} has used {{ $value | humanizePercentage }} of its maxmemory for 15 minutes; `
          + `at the limit (maxmemory-policy ${props.maxmemoryPolicy}) ${atLimit(props.maxmemoryPolicy)}.`,
      },
      {
        // Connections refused at maxclients: each one is a client that failed to connect.
        alert: 'RedisRejectedConnections',
        expr: `increase(redis_rejected_connections_total{${server}}[5m]) > 0`,
        severity: 'warning',
        labels,
        summary: `Redis {{ $labels.pod }} of ${name} refuses connections`,
        description: `{{ $labels.pod }} of ${ns}/${name} refused {{ $value | humanize }} connections in the last 5 minutes: it is at maxclients.`,
      },
    ];

    new AlertRules(this, 'rules', {
      identity,
      name: REDIS_ALERTS,
      labelName: 'redis',
      runbookBase: props.runbookBase,
      groups: [{ name: `${name}.alerts`, alerts }],
    });
  }
}
