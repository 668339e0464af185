/**
 * The extension point: cdk8s constructs of the user's own (written with cdk8s-plus-28 or plain API
 * objects) added to an environment's output, next to the constructs the configuration makes. An
 * extension declares the workloads it runs and their flows, which the model takes in like a
 * worker's (so their NetworkPolicies come from the same table), and builds its constructs into a
 * scope of the `extensions` chart. Everything it makes goes through the same gate (schema, CRD
 * defaults and CEL, policy) into dist/<env>/extensions/. docs/extending.md shows how.
 */
import type { Construct } from 'constructs';
import { z } from 'zod';
import type { AppIdentity } from './model/identity';
import type { InjectedVariable } from './model/injected-env';
import { DEPENDENCIES, ServiceNameSchema } from './schema';

/** What an extension's build gets: where its objects belong, and the settings the data tier injects. */
export interface ExtensionContext {
  /** The application in this environment: its namespace, and the labels its objects carry. */
  readonly identity: AppIdentity;
  /** The environment's name (`staging`). */
  readonly environment: string;
  readonly production: boolean;
  /** The connection settings of the data components `uses` names, for a container's env. */
  injectedEnv(uses: readonly (typeof DEPENDENCIES)[number][]): readonly InjectedVariable[];
  /** PriorityClasses of the environment: `serving` for long-running pods, `batch` for jobs. */
  readonly priorityClasses: { readonly serving: string; readonly batch: string };
  /** How pods spread over zones in this environment (its `zoneSpread`). */
  readonly zoneSpread: 'preferred' | 'required';
  /** The uploaded-files volume's claim and where workloads mount it, when the environment has one. */
  readonly uploads?: { readonly claimName: string; readonly mountPath: string };
}

/** The flows of one workload an extension runs, as a worker declares them. */
const ExtensionWorkloadSchema = z.strictObject({
  /** Data components it connects to: opens the flows (their injected settings come from context.injectedEnv). */
  uses: z.array(z.enum(DEPENDENCIES)).default([]),
  /** Services of the application it calls over HTTP. */
  calls: z.array(z.string()).default([]),
  /** TCP ports it may reach on the public internet. */
  internetEgressPorts: z.array(z.number().int().min(1).max(65535)).default([]),
  /** Container port Prometheus scrapes, if any. */
  metricsPort: z.number().int().min(1024).max(65535).optional(),
});

/** What an extension says of itself; `build` is checked to be a function. */
export const ExtensionSchema = z.strictObject({
  /** Names its scope under the extensions chart, and it in messages: a DNS label. */
  name: ServiceNameSchema,
  /** What it adds, for people reading the environment. */
  description: z.string().min(1),
  /**
   * The workloads it runs, by the name their pods carry (`app.kubernetes.io/name`, which
   * productionWorkload() sets), with their flows: each gets its NetworkPolicy from the model.
   */
  workloads: z.record(ServiceNameSchema, ExtensionWorkloadSchema).default({}),
  build: z.custom<(scope: Construct, context: ExtensionContext) => void>((v) => typeof v === 'function', {
    error: 'must be a function (scope, context) => void that adds the extension\'s constructs to scope',
  }),
});

/** An extension as an environment file writes it. */
export type Extension = z.input<typeof ExtensionSchema>;
/** An extension validated, its defaults applied. */
export type ResolvedExtension = z.output<typeof ExtensionSchema>;
/** One of its workloads, validated. */
export type ExtensionWorkload = z.output<typeof ExtensionWorkloadSchema>;
