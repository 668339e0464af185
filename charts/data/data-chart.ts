import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';

export interface DataChartProps {
  readonly env: Environment;
}

/** The application's state: PostgreSQL, Redis and the uploaded files. */
export class DataChart extends Chart {
  constructor(scope: Construct, id: string, props: DataChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    void props;
  }
}
