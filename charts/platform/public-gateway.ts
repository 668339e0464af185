import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { gatewayName, httpsListenerName, tlsSecretName } from '../../environments/model/names';

export interface PublicGatewayProps {
  /** Hosts to serve (one HTTPS listener each) and the GatewayClass to ask for. */
  readonly env: Environment;
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
    const { env } = props;
    // Only HTTPRoutes from the application's namespace: the controller would otherwise also
    // attach GRPCRoutes, which could serve plain-text gRPC on the HTTP listener.
    const allowedRoutes = {
      namespaces: { from: 'Same' as const },
      kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
    };
    new ModelObject(this, 'Gateway', new Gateway({
      metadata: appMetadata(env, gatewayName(env), 'gateway', 'gateway'),
      spec: {
        gatewayClassName: env.gateway.className,
        listeners: [
          { name: HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes },
          ...env.hosts.map((h) => ({
            name: httpsListenerName(h.hostname),
            protocol: 'HTTPS' as const,
            port: 443,
            hostname: h.hostname,
            tls: { mode: 'Terminate' as const, certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecretName(h.hostname) }] },
            allowedRoutes,
          })),
        ],
      },
    }));
  }
}
