import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';

export interface LoggingChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * What reads the application's logs: the Loki ruler's rules on the audit trail and the
 * application logs, and the logs dashboards. Loki and the collector are platform releases
 * (charts/gitops/values/loki.ts, alloy.ts); how logs are labelled and routed is
 * charts/logging/log-streams.ts.
 */
export class LoggingChart extends Chart {
  constructor(scope: Construct, id: string, props: LoggingChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    void props;
  }
}
