/** PostgresBaseBackups: the ScheduledBackup of a cluster's base backups through the Barman Cloud plugin. */
import { PostgresBaseBackups } from '../charts/data/postgres-base-backups';
import type { Model } from '../environments/model/model';
import { shop, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the data chart gives it from the model. */
function scheduledBackup(model: Model) {
  return only(synthConstruct((s) => new PostgresBaseBackups(s, 'base-backups', {
    identity: model.identity, cluster: model.data.postgres!.cluster, schedule: model.env.data.postgres!.baseBackupSchedule,
  })), 'ScheduledBackup');
}

test('base backups through the plugin, from a standby, on the configured 6-field schedule, one right away', () => {
  const sb = scheduledBackup(variantModel(shop, { data: { postgres: { baseBackupSchedule: '0 30 2 * * 0' } } }));
  expect(sb.apiVersion).toBe('postgresql.cnpg.io/v1');
  expect(sb.metadata).toMatchObject({ name: 'shop-db', namespace: 'shop-test' });
  expect(sb.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/component': 'backup' });
  expect(sb.spec).toEqual({
    cluster: { name: 'shop-db' },
    schedule: '0 30 2 * * 0',
    method: 'plugin',
    pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
    target: 'prefer-standby',
    immediate: true,
    backupOwnerReference: 'self',
  });
});

test('unconfigured, the schema\'s default: daily at 01:00', () => {
  expect(scheduledBackup(variantModel(shop)).spec.schedule).toBe('0 0 1 * * *');
});

test('a cluster named in data.postgres.name (an adopted recovery) is the one backed up', () => {
  const sb = scheduledBackup(variantModel(shop, {
    data: { postgres: { name: 'shop-db-restore-202611201015', recovery: { source: 'shop-db', targetTime: '2026-11-20T10:15:00Z' } } },
  }));
  expect(sb.metadata.name).toBe('shop-db-restore-202611201015');
  expect(sb.spec.cluster).toEqual({ name: 'shop-db-restore-202611201015' });
});
