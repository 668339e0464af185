import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { httpsListenerName, tlsSecretName } from '../../environments/model/names';
import { GATEWAY_HTTP_PORT, GATEWAY_HTTPS_PORT } from '../../environments/model/network';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';

export interface PublicGatewayProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The Gateway's name (what routes and ACME challenges attach to). */
  readonly name: string;
  /** GatewayClass of the implementation (Envoy Gateway) to ask for. */
  readonly className: string;
  /** Host names to serve, one HTTPS listener each. */
  readonly hostnames: readonly string[];
}

/** Listener of plain HTTP, which only redirects to HTTPS (and answers ACME challenges). */
export const HTTP_LISTENER = 'http';

/**
 * The environment's entry point: one HTTPS listener per host, terminating TLS with the host's
 * certificate, and one HTTP listener that routes may only use to redirect.
 */
export class PublicGateway extends Construct {
  constructor(scope: Construct, id: string, props: PublicGatewayProps) {
    super(scope, id);
    const { identity, name, className, hostnames } = props;
    // Only HTTPRoutes from the application's namespace: the controller would otherwise also
    // attach GRPCRoutes, which could serve plain-text gRPC on the HTTP listener.
    const allowedRoutes = {
      namespaces: { from: 'Same' as const },
      kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
    };
    new ModelObject(this, 'Gateway', new Gateway({
      metadata: appMetadata(identity, { name, labelName: 'gateway', component: 'gateway' }),
      spec: {
        gatewayClassName: className,
        listeners: [
          { name: HTTP_LISTENER, protocol: 'HTTP', port: GATEWAY_HTTP_PORT, allowedRoutes },
          ...hostnames.map((hostname) => ({
            name: httpsListenerName(hostname),
            protocol: 'HTTPS' as const,
            port: GATEWAY_HTTPS_PORT,
            hostname,
            tls: { mode: 'Terminate' as const, certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecretName(hostname) }] },
            allowedRoutes,
          })),
        ],
      },
    }));
  }
}
