/**
 * The application's Redis members as redis_exporter (the sidecar of each member, scraped through
 * the Redis ServiceMonitor) reports them: who is up and who is master, memory against maxmemory,
 * clients and replicas, commands, keyspace hits and misses, evictions and refused connections.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { redisSelectors } from '../redis-alerts';
import { buildDashboard, dashboardMeta, stat, timeseries, type DashboardContext } from './kit';

export interface RedisDashboardProps {
  readonly context: DashboardContext;
  readonly namespace: string;
  /** The StatefulSet: its pods are `<name>-0` … */
  readonly statefulSet: string;
  /** Its headless Service, whose ServiceMonitor the members' series come through. */
  readonly headlessService: string;
  /** Members the StatefulSet runs. */
  readonly members: number;
}

export const REDIS_DASHBOARD_KIND = 'redis';

export function redisDashboard(props: RedisDashboardProps): Dashboard {
  // The servers' own series: the exporters also answer for the sentinels, through a second endpoint.
  const sel = redisSelectors(props.namespace, props.headlessService).server;
  const rate = (metric: string) => `rate(${metric}{${sel}}[$__rate_interval])`;
  return buildDashboard(
    dashboardMeta(props.context, REDIS_DASHBOARD_KIND, 'Redis',
      `Redis StatefulSet ${props.statefulSet} with Sentinel: members, roles, memory against maxmemory, clients, commands, keyspace hits and evictions.`),
    [
      {
        title: 'Members',
        panels: [
          stat({
            title: 'Members up',
            description: `Members whose exporter reaches Redis, of the ${props.members} the StatefulSet runs.`,
            width: 4, decimals: 0, thresholds: { base: 'red', steps: [[props.members, 'green']] },
            queries: [{ expr: `sum(redis_up{${sel}})`, legend: 'up' }],
          }),
          stat({
            title: 'Masters',
            description: 'Members that say they are master: exactly one. None means no writes; two, a split brain Sentinel has not resolved yet.',
            width: 4, decimals: 0, thresholds: { base: 'red', steps: [[1, 'green'], [2, 'red']] },
            queries: [{ expr: `count(redis_instance_info{${sel},role="master"}) or vector(0)`, legend: 'masters' }],
          }),
          timeseries({
            title: 'Role by member',
            description: 'The role each member reports: a change is a Sentinel failover.',
            width: 8, min: 0, max: 1, decimals: 0,
            queries: [{ expr: `max by (pod, role) (redis_instance_info{${sel}})`, legend: '{{pod}} {{role}}' }],
          }),
          timeseries({
            title: 'Connected replicas',
            description: `Replicas connected to each member: the master should have ${props.members - 1}.`,
            width: 8, min: 0, decimals: 0,
            queries: [{ expr: `max by (pod) (redis_connected_slaves{${sel}})`, legend: '{{pod}}' }],
          }),
        ],
      },
      {
        title: 'Memory and clients',
        panels: [
          timeseries({
            title: 'Memory used vs maxmemory',
            description: 'Memory each member uses for data, and maxmemory, where the eviction policy starts removing keys (or writes fail).',
            unit: 'bytes', width: 8, min: 0,
            queries: [
              { expr: `max by (pod) (redis_memory_used_bytes{${sel}})`, legend: '{{pod}}' },
              { expr: `max(redis_memory_max_bytes{${sel}})`, legend: 'maxmemory' },
            ],
          }),
          timeseries({
            title: 'Memory used, share of maxmemory',
            description: 'Used memory over maxmemory per member.',
            unit: 'percentunit', width: 8, min: 0,
            thresholds: { base: 'green', steps: [[0.8, 'orange'], [0.95, 'red']] },
            queries: [{ expr: `max by (pod) (redis_memory_used_bytes{${sel}}) / max by (pod) (redis_memory_max_bytes{${sel}} > 0)`, legend: '{{pod}}' }],
          }),
          timeseries({
            title: 'Connected clients',
            description: 'Client connections per member (the Sentinels\' included, the replicas\' not).',
            width: 8, min: 0,
            queries: [{ expr: `max by (pod) (redis_connected_clients{${sel}})`, legend: '{{pod}}' }],
          }),
        ],
      },
      {
        title: 'Traffic',
        panels: [
          timeseries({
            title: 'Commands per second',
            description: 'Commands each member processed.',
            unit: 'ops', width: 8, min: 0,
            queries: [{ expr: `sum by (pod) (${rate('redis_commands_processed_total')})`, legend: '{{pod}}' }],
          }),
          timeseries({
            title: 'Keyspace hits and misses per second',
            description: 'Key lookups that found their key, and those that did not.',
            unit: 'ops', width: 8, min: 0,
            queries: [
              { expr: `sum(${rate('redis_keyspace_hits_total')})`, legend: 'hits' },
              { expr: `sum(${rate('redis_keyspace_misses_total')})`, legend: 'misses' },
            ],
          }),
          timeseries({
            title: 'Hit ratio',
            description: 'Share of key lookups that found their key: a falling ratio with evictions means the cache is too small.',
            unit: 'percentunit', width: 8, min: 0, max: 1,
            queries: [{
              expr: `sum(${rate('redis_keyspace_hits_total')})\n/\n(sum(${rate('redis_keyspace_hits_total')}) + sum(${rate('redis_keyspace_misses_total')}))`,
              legend: 'hit ratio',
            }],
          }),
          timeseries({
            title: 'Evicted keys per second',
            description: 'Keys removed to stay below maxmemory, by the eviction policy.',
            unit: 'ops', width: 12, min: 0,
            queries: [{ expr: `sum by (pod) (${rate('redis_evicted_keys_total')})`, legend: '{{pod}}' }],
          }),
          timeseries({
            title: 'Rejected connections per second',
            description: 'Connections refused because maxclients was reached.',
            unit: 'ops', width: 12, min: 0,
            queries: [{ expr: `sum by (pod) (${rate('redis_rejected_connections_total')})`, legend: '{{pod}}' }],
          }),
        ],
      },
    ],
  );
}
