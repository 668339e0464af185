/**
 * PostgreSQL settings derived from the instance's memory, so that resizing the pods in the
 * configuration resizes the database with them. The ratios are the usual starting points for a
 * dedicated database container: a quarter of memory for shared buffers, the planner told that
 * three quarters are cache (shared buffers plus the kernel page cache of the container).
 */
import { MAX_CONNECTIONS } from '../../environments/model/postgres';
import { parseQuantity } from '../../environments/quantity';
const MiB = 2 ** 20;

export interface PostgresTuningInput {
  /** Memory limit of the instance container (a Kubernetes quantity). */
  readonly memoryLimit: string;
  /** `archive_timeout`, seconds. */
  readonly archiveTimeoutSeconds: number;
}

/** `postgresql.parameters` of the Cluster (all values strings, in units PostgreSQL accepts). */
export function postgresParameters(input: PostgresTuningInput): Record<string, string> {
  const memoryMiB = Math.floor(parseQuantity(input.memoryLimit) / MiB);
  const sharedBuffers = Math.floor(memoryMiB / 4);
  // What is left after shared buffers, spread over a busy server's sorts and hashes (three per
  // connection is the usual allowance), floored at PostgreSQL's default of 4 MB.
  const workMem = Math.max(4, Math.floor((memoryMiB - sharedBuffers) / (MAX_CONNECTIONS * 3)));
  return {
    shared_buffers: `${sharedBuffers}MB`,
    effective_cache_size: `${Math.floor((memoryMiB * 3) / 4)}MB`,
    maintenance_work_mem: `${Math.min(2048, Math.max(64, Math.floor(memoryMiB / 16)))}MB`,
    work_mem: `${workMem}MB`,
    max_connections: String(MAX_CONNECTIONS),
    // A WAL segment is archived at the latest this long after the first write into it, so a quiet
    // database still loses at most this much on the loss of every instance.
    archive_timeout: `${input.archiveTimeoutSeconds}s`,
    // The nightly dump reads a standby for an hour or more; without feedback, WAL replay cancels
    // it on conflicts with vacuum on the primary. The price is vacuum waiting for that query.
    hot_standby_feedback: 'on',
    // Checkpoints spread over most of the interval rather than bursting I/O.
    checkpoint_completion_target: '0.9',
    // Queries and lock waits that would otherwise hold a pooled connection forever.
    idle_in_transaction_session_timeout: '5min',
    lock_timeout: '30s',
    log_min_duration_statement: '1s',
    log_lock_waits: 'on',
  };
}
