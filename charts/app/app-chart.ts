import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { hostRoutes } from '../../environments/model/gateway';
import { injectedEnv, migrationEnv } from '../../environments/model/injected-env';
import type { Model } from '../../environments/model/model';
import { FIXED_NAMES, gatewayName, migrationJobName, type DataEndpoints } from '../../environments/model/names';
import { sliEnv } from '../../environments/model/slo';
import { PUBLICLY_TRUSTED_ISSUER } from '../../environments/model/tls';
import { LoadTestJob } from './load-test-job';
import { MigrationJob } from './migration-job';
import { PublicRoutes, securityHeaders } from './public-routes';
import { ScheduledJob } from './scheduled-job';
import { expectedHeaders, SmokeTestJob } from './smoke-test-job';
import { WebService } from './web-service';
import { Worker } from './worker';
import type { UploadsMount } from './workload-parts';

export interface AppChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** The uploaded-files volume as a workload that uses it mounts it; none for one that does not. */
function uploadsMount(uses: readonly string[], data: DataEndpoints): UploadsMount | undefined {
  return uses.includes('uploads') && data.uploads ? { claimName: data.uploads.claim, mountPath: data.uploads.mountPath } : undefined;
}

/** The application's own workloads (services, workers, scheduled jobs, migrations) and how the public reaches them. */
export class AppChart extends Chart {
  constructor(scope: Construct, id: string, props: AppChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity, data } = props.model;
    for (const [name, service] of Object.entries(env.services)) {
      // Prefixed so that a service called `routes` is a name clash synthesis reports, not a crash.
      new WebService(this, `service-${name}`, {
        identity,
        name,
        service,
        injectedEnv: [...injectedEnv(data, service.uses), ...sliEnv(env, name)],
        zoneSpread: env.zoneSpread,
        priorityClassName: props.model.priorityClasses.serving,
        uploads: uploadsMount(service.uses, data),
      });
      const m = service.migration;
      if (m) {
        // What the migration does not say is the service's: the same image, user, sizes and scratch paths.
        new MigrationJob(this, `migration-${name}`, {
          identity,
          name: migrationJobName(name),
          image: m.image ?? service.image,
          command: m.command,
          args: m.args,
          env: m.env,
          injectedEnv: migrationEnv(data),
          resources: m.resources ?? service.resources,
          runAsUser: m.runAsUser ?? service.runAsUser,
          writablePaths: service.writablePaths,
          timeoutSeconds: m.timeoutSeconds,
          backoffLimit: m.backoffLimit,
          priorityClassName: props.model.priorityClasses.batch,
        });
      }
    }
    for (const [name, worker] of Object.entries(env.workers)) {
      new Worker(this, `worker-${name}`, {
        identity,
        name,
        worker,
        injectedEnv: injectedEnv(data, worker.uses),
        zoneSpread: env.zoneSpread,
        // Background work still serves users (mail, renders): above the batch jobs, beside the services.
        priorityClassName: props.model.priorityClasses.serving,
        uploads: uploadsMount(worker.uses, data),
      });
    }
    for (const [name, job] of Object.entries(env.jobs)) {
      new ScheduledJob(this, `job-${name}`, {
        identity,
        name,
        job,
        injectedEnv: injectedEnv(data, job.uses),
        priorityClassName: props.model.priorityClasses.batch,
        uploads: uploadsMount(job.uses, data),
      });
    }
    new PublicRoutes(this, 'routes', { identity, gatewayName: gatewayName(env), hosts: hostRoutes(env), hsts: env.hsts });
    // The schema asks for a host; without one there would be nothing to check (nor a flow for it).
    if (env.hosts.length > 0) {
      new SmokeTestJob(this, 'smoke-test', {
        identity,
        name: FIXED_NAMES.smokeTest,
        hosts: env.hosts.map((h) => ({ hostname: h.hostname, paths: h.routes.map((r) => r.path) })),
        // What the routes set is what the smoke test expects: one statement of both.
        headers: expectedHeaders(securityHeaders(env.hsts)),
        verifyCertificates: PUBLICLY_TRUSTED_ISSUER[env.tls.issuer],
        priorityClassName: props.model.priorityClasses.batch,
      });
    }
    const load = env.loadTest;
    if (load && env.hosts.length > 0) {
      new LoadTestJob(this, 'load-test', {
        identity,
        name: FIXED_NAMES.loadTest,
        // The configured paths on every host, or each host's routed prefixes.
        hosts: env.hosts.map((h) => ({ hostname: h.hostname, paths: load.paths ?? h.routes.map((r) => r.path) })),
        load,
        slo: env.slo,
        priorityClassName: props.model.priorityClasses.batch,
      });
    }
  }
}
