/** postgresParameters: PostgreSQL memory settings follow the instance's memory limit. */
import { postgresParameters } from '../charts/data/postgres-parameters';
import { MAX_CONNECTIONS } from '../environments/model/postgres';

test('8Gi: a quarter for shared buffers, three quarters assumed cache', () => {
  const p = postgresParameters({ memoryLimit: '8Gi', archiveTimeoutSeconds: 60 });
  expect(p.shared_buffers).toBe('2048MB');
  expect(p.effective_cache_size).toBe('6144MB');
  expect(p.maintenance_work_mem).toBe('512MB');
  // (8192 − 2048) MB over 3 sorts per connection.
  expect(p.work_mem).toBe(`${Math.floor(6144 / (MAX_CONNECTIONS * 3))}MB`);
  expect(p.max_connections).toBe(String(MAX_CONNECTIONS));
});

test('archive_timeout is the configured RPO bound', () => {
  expect(postgresParameters({ memoryLimit: '2Gi', archiveTimeoutSeconds: 30 }).archive_timeout).toBe('30s');
});

test('small instances keep sane floors, large ones a ceiling on maintenance memory', () => {
  const small = postgresParameters({ memoryLimit: '512Mi', archiveTimeoutSeconds: 60 });
  expect(small.shared_buffers).toBe('128MB');
  expect(small.work_mem).toBe('4MB');
  expect(small.maintenance_work_mem).toBe('64MB');
  expect(postgresParameters({ memoryLimit: '64Gi', archiveTimeoutSeconds: 60 }).maintenance_work_mem).toBe('2048MB');
});

test('every value is a string PostgreSQL accepts as a setting', () => {
  for (const value of Object.values(postgresParameters({ memoryLimit: '1536Mi', archiveTimeoutSeconds: 60 }))) {
    expect(value).toMatch(/^([0-9.]+(MB|s|min)?|on|off)$/);
  }
});

test('hot_standby_feedback is on, whatever the size: the nightly dump reads a standby for an hour or more', () => {
  // Without it, WAL replay on the standby cancels the dump when vacuum on the primary removes rows
  // the dump still reads ("conflict with recovery"), night after night on a busy database.
  for (const memoryLimit of ['512Mi', '8Gi', '64Gi']) {
    expect(postgresParameters({ memoryLimit, archiveTimeoutSeconds: 60 }).hot_standby_feedback).toBe('on');
  }
});
