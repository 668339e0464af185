import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { injectedEnv } from '../../environments/model/injected-env';
import type { Model } from '../../environments/model/model';
import { gatewayName } from '../../environments/model/names';
import { PublicRoutes } from './public-routes';
import { WebService } from './web-service';

export interface AppChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** The application's own workloads and how the public reaches them. */
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
        injectedEnv: injectedEnv(data, service.uses),
        zoneSpread: env.zoneSpread,
        priorityClassName: props.model.priorityClasses.serving,
        uploads: service.uses.includes('uploads') && data.uploads ? { claimName: data.uploads.claim, mountPath: data.uploads.mountPath } : undefined,
      });
    }
    new PublicRoutes(this, 'routes', { identity, gatewayName: gatewayName(env), hosts: env.hosts, hsts: env.hsts });
  }
}
