import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { NetworkPolicies } from './network-policies';

export interface SecurityChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** Who may talk to whom: every NetworkPolicy of the namespace, from the model's flows. */
export class SecurityChart extends Chart {
  constructor(scope: Construct, id: string, props: SecurityChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { identity, network } = props.model;
    new NetworkPolicies(this, 'network-policies', { identity, flows: network.flows, subjects: network.subjects });
  }
}
