import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { PublicRoutes } from './public-routes';
import { WebService } from './web-service';

export interface AppChartProps {
  readonly env: Environment;
}

/** The application's own workloads and how the public reaches them. */
export class AppChart extends Chart {
  constructor(scope: Construct, id: string, props: AppChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env } = props;
    for (const [name, service] of Object.entries(env.services)) {
      new WebService(this, name, { env, name, service });
    }
    new PublicRoutes(this, 'routes', { env });
  }
}
