/**
 * The values of every platform release, by release name: what each Helm Application passes to its
 * chart. A Record over PlatformReleaseName, so a release added to PLATFORM_RELEASES without values
 * does not compile.
 */
import type { PlatformReleaseName } from '../platform-releases';
import { alloyValues } from './alloy';
import { argoCdValues } from './argo-cd';
import { certManagerValues } from './cert-manager';
import { cloudnativePgValues } from './cloudnative-pg';
import type { PlatformValuesContext } from './context';
import { envoyGatewayValues } from './envoy-gateway';
import { externalSecretsValues } from './external-secrets';
import { falcoValues } from './falco';
import { falcosidekickValues } from './falcosidekick';
import { kubePrometheusStackValues } from './kube-prometheus-stack';
import { lokiValues } from './loki';
import { pluginBarmanCloudValues } from './plugin-barman-cloud';
import { trivyOperatorValues } from './trivy-operator';

export const PLATFORM_VALUES: Readonly<Record<PlatformReleaseName, (ctx: PlatformValuesContext) => object>> = {
  'argo-cd': argoCdValues,
  'cert-manager': certManagerValues,
  'envoy-gateway': envoyGatewayValues,
  'external-secrets': externalSecretsValues,
  'cloudnative-pg': cloudnativePgValues,
  'plugin-barman-cloud': pluginBarmanCloudValues,
  'kube-prometheus-stack': kubePrometheusStackValues,
  loki: lokiValues,
  alloy: alloyValues,
  'trivy-operator': trivyOperatorValues,
  falco: falcoValues,
  falcosidekick: falcosidekickValues,
};

export function platformValues(name: PlatformReleaseName, ctx: PlatformValuesContext): object {
  return PLATFORM_VALUES[name](ctx);
}
