/**
 * The connection settings a service gets for each data component it `uses`: one table, from which
 * both the container's environment (charts/app/web-service.ts, and charts/app/migration-job.ts for
 * its migration) and the configuration's rules (a service may not set these itself; `$(NAME)` may
 * refer to them) take the names.
 */
import type { DEPENDENCIES } from '../schema';
import type { DataEndpoints } from './names';
import { POSTGRES_PORT } from './network';

export type Dependency = (typeof DEPENDENCIES)[number];

/** A variable with a literal value or one read from a key of a Secret. */
export interface InjectedVariable {
  readonly name: string;
  readonly value?: string;
  readonly secretKeyRef?: { readonly name: string; readonly key: string };
}

/**
 * Who the variables are for: a service's pods, or its migration Job, which gets the same names but
 * connects to the primary directly (PostgresEndpoints.primaryService) instead of through PgBouncer.
 */
export type Consumer = 'service' | 'migration';

type Producer = (data: DataEndpoints, consumer: Consumer) => Omit<InjectedVariable, 'name'>;

/** The endpoints of a component a service uses (the schema refuses `uses` of one not configured). */
function endpoints<K extends 'postgres' | 'redis' | 'uploads'>(data: DataEndpoints, component: K): NonNullable<DataEndpoints[K]> {
  const e = data[component];
  if (!e) throw new Error(`a service uses ${component}, which is not configured`);
  return e as NonNullable<DataEndpoints[K]>;
}

const TABLE: Readonly<Record<Dependency, readonly (readonly [string, Producer])[]>> = {
  postgres: [
    // Services through PgBouncer (the pooler's Service has its name); migrations to the primary,
    // since transaction pooling breaks Flyway's session-level advisory lock and settings.
    ['DATABASE_HOST', (data, consumer) => ({ value: consumer === 'migration' ? endpoints(data, 'postgres').primaryService : endpoints(data, 'postgres').pooler })],
    ['DATABASE_PORT', () => ({ value: String(POSTGRES_PORT) })],
    ['DATABASE_NAME', (data) => ({ value: endpoints(data, 'postgres').database })],
    // The owner role's Secret, which CloudNativePG creates and rotates.
    ['DATABASE_USER', (data) => ({ secretKeyRef: { name: endpoints(data, 'postgres').appSecret, key: 'username' } })],
    ['DATABASE_PASSWORD', (data) => ({ secretKeyRef: { name: endpoints(data, 'postgres').appSecret, key: 'password' } })],
  ],
  redis: [
    // Clients ask the sentinels for the master of the set, never a pod.
    ['REDIS_SENTINEL_MASTER', (data) => ({ value: endpoints(data, 'redis').masterSet })],
    ['REDIS_SENTINEL_NODES', (data) => ({ value: endpoints(data, 'redis').sentinels.join(',') })],
    ['REDIS_PASSWORD', (data) => ({ secretKeyRef: { name: endpoints(data, 'redis').passwordSecret, key: 'password' } })],
  ],
  uploads: [
    ['UPLOADS_DIR', (data) => ({ value: endpoints(data, 'uploads').mountPath })],
  ],
};

/** Names of the variables each component injects. */
export const INJECTED_ENV: Readonly<Record<Dependency, readonly string[]>> = {
  postgres: TABLE.postgres.map(([name]) => name),
  redis: TABLE.redis.map(([name]) => name),
  uploads: TABLE.uploads.map(([name]) => name),
};

/** The variables a service that uses these components gets, in the table's order. */
export function injectedEnv(data: DataEndpoints, uses: readonly Dependency[], consumer: Consumer = 'service'): InjectedVariable[] {
  return (Object.keys(TABLE) as Dependency[]).filter((d) => uses.includes(d))
    .flatMap((d) => TABLE[d].map(([name, produce]) => ({ name, ...produce(data, consumer) })));
}

/** What a service's migration gets: PostgreSQL's variables only, the host being the primary's Service. */
export const MIGRATION_USES: readonly Dependency[] = ['postgres'];

export function migrationEnv(data: DataEndpoints): InjectedVariable[] {
  return injectedEnv(data, MIGRATION_USES, 'migration');
}
