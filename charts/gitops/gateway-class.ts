/**
 * The GatewayClass the application's Gateway asks for, served by Envoy Gateway's controller. It
 * belongs to the platform (one per cluster, cluster-scoped), so the root Application makes it, in
 * the wave after Envoy Gateway's (whose chart installs the Gateway API CRDs).
 */
import { GatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';

/**
 * The controller name Envoy Gateway serves GatewayClasses of: gateway-helm v1.9.0 values.yaml,
 * config.envoyGateway.gateway.controllerName (left at its default).
 */
export const ENVOY_GATEWAY_CONTROLLER = 'gateway.envoyproxy.io/gatewayclass-controller';

export interface EnvoyGatewayClassProps {
  readonly identity: AppIdentity;
  /** The class's name: what the Gateway's `gatewayClassName` says. */
  readonly name: string;
  readonly wave: number;
}

export class EnvoyGatewayClass extends Construct {
  constructor(scope: Construct, id: string, props: EnvoyGatewayClassProps) {
    super(scope, id);
    new ModelObject(this, 'GatewayClass', new GatewayClass({
      metadata: {
        name: props.name,
        labels: recommendedLabels(props.identity, props.name, 'gateway'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      spec: { controllerName: ENVOY_GATEWAY_CONTROLLER },
    }));
  }
}
