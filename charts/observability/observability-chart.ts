import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { gatewayProxyPodLabels } from '../../environments/model/gateway';
import type { Model } from '../../environments/model/model';
import { FIXED_NAMES } from '../../environments/model/names';
import { serviceObjectives } from '../../environments/model/slo';
import { GatewayProxyMonitor } from './gateway-proxy-monitor';
import { repositoryFilesUrl } from './runbooks';
import { SloRules } from './slo-rules';

export interface ObservabilityChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/** What watches the application: the scraping of its gateway, its objectives' recording and alerting rules. */
export class ObservabilityChart extends Chart {
  constructor(scope: Construct, id: string, props: ObservabilityChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity } = props.model;
    const runbookBase = repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision);
    new GatewayProxyMonitor(this, FIXED_NAMES.gatewayProxyMonitor, {
      identity, name: FIXED_NAMES.gatewayProxyMonitor, proxyNamespace: env.gateway.proxyNamespace, proxyPodLabels: gatewayProxyPodLabels(env),
    });
    const objectives = serviceObjectives(env);
    for (const service of [...new Set(objectives.map((o) => o.service))]) {
      new SloRules(this, `${service}-slo`, { identity, service, objectives: objectives.filter((o) => o.service === service), runbookBase });
    }
  }
}
