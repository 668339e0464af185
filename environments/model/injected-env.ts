/**
 * The connection settings a service gets for each data component it `uses`: one table, from which
 * both the container's environment (charts/app/web-service.ts) and the configuration's rules
 * (a service may not set these itself; `$(NAME)` may refer to them) take the names.
 */
import type { DEPENDENCIES, Environment } from '../schema';
import { dataEndpoints } from './names';
import { POSTGRES_PORT } from './network';

export type Dependency = (typeof DEPENDENCIES)[number];

/** A variable with a literal value or one read from a key of a Secret. */
export interface InjectedVariable {
  readonly name: string;
  readonly value?: string;
  readonly secretKeyRef?: { readonly name: string; readonly key: string };
}

type Producer = (env: Environment) => Omit<InjectedVariable, 'name'>;

const TABLE: Readonly<Record<Dependency, readonly (readonly [string, Producer])[]>> = {
  postgres: [
    // Through PgBouncer: the pooler's Service has its name.
    ['DATABASE_HOST', (env) => ({ value: dataEndpoints(env).postgres.pooler })],
    ['DATABASE_PORT', () => ({ value: String(POSTGRES_PORT) })],
    ['DATABASE_NAME', (env) => ({ value: dataEndpoints(env).postgres.database })],
    // The owner role's Secret, which CloudNativePG creates and rotates.
    ['DATABASE_USER', (env) => ({ secretKeyRef: { name: dataEndpoints(env).postgres.appSecret, key: 'username' } })],
    ['DATABASE_PASSWORD', (env) => ({ secretKeyRef: { name: dataEndpoints(env).postgres.appSecret, key: 'password' } })],
  ],
  redis: [
    // Clients ask the sentinels for the master of the set, never a pod.
    ['REDIS_SENTINEL_MASTER', (env) => ({ value: dataEndpoints(env).redis.masterSet })],
    ['REDIS_SENTINEL_NODES', (env) => ({ value: dataEndpoints(env).redis.sentinels.join(',') })],
    ['REDIS_PASSWORD', (env) => ({ secretKeyRef: { name: dataEndpoints(env).redis.passwordSecret, key: 'password' } })],
  ],
  uploads: [
    ['UPLOADS_DIR', (env) => ({ value: env.data.uploads.mountPath })],
  ],
};

/** Names of the variables each component injects. */
export const INJECTED_ENV: Readonly<Record<Dependency, readonly string[]>> = {
  postgres: TABLE.postgres.map(([name]) => name),
  redis: TABLE.redis.map(([name]) => name),
  uploads: TABLE.uploads.map(([name]) => name),
};

/** The variables a service that uses these components gets, in the table's order. */
export function injectedEnv(env: Environment, uses: readonly Dependency[]): InjectedVariable[] {
  return (Object.keys(TABLE) as Dependency[]).filter((d) => uses.includes(d))
    .flatMap((d) => TABLE[d].map(([name, produce]) => ({ name, ...produce(env) })));
}
