import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { AppNetworkPolicies } from './app-network-policies';

export interface SecurityChartProps {
  /** The environment whose network policies to build. */
  readonly env: Environment;
}

/** Who may talk to whom. */
export class SecurityChart extends Chart {
  constructor(scope: Construct, id: string, props: SecurityChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    new AppNetworkPolicies(this, 'network-policies', { env: props.env });
  }
}
