import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { PublicRoutes } from './public-routes';
import { WebService } from './web-service';

export interface AppChartProps {
  /** The environment whose services and routes to build. */
  readonly env: Environment;
}

/** The application's own workloads and how the public reaches them. */
export class AppChart extends Chart {
  constructor(scope: Construct, id: string, props: AppChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env } = props;
    for (const [name, service] of Object.entries(env.services)) {
      // Prefixed so that a service called `routes` is a name clash synthesis reports, not a crash.
      new WebService(this, `service-${name}`, { env, name, service });
    }
    new PublicRoutes(this, 'routes', { env });
  }
}
