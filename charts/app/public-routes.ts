import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IHTTPRouteFilter } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteFilter';
import { Construct } from 'constructs';
import type { HostRoute } from '../../environments/model/gateway';
import type { AppIdentity } from '../../environments/model/identity';
import { FIXED_NAMES, httpsListenerName } from '../../environments/model/names';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { HTTP_LISTENER } from '../platform/public-gateway';
import { SERVICE_PORT } from './web-service';

export interface PublicRoutesProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The Gateway to attach to. */
  readonly gatewayName: string;
  /** Every host's route and its rules (environments/model/gateway.ts). */
  readonly hosts: readonly HostRoute[];
  /** Strict-Transport-Security of every HTTPS response. */
  readonly hsts: Environment['hsts'];
}

/** `max-age=…; includeSubDomains; preload` as configured. */
export function hstsValue(hsts: Environment['hsts']): string {
  return [`max-age=${hsts.maxAgeSeconds}`, hsts.includeSubDomains ? 'includeSubDomains' : '', hsts.preload ? 'preload' : '']
    .filter(Boolean).join('; ');
}

/**
 * Response headers every HTTPS response carries. The CSP header is added, not set: an application's
 * own Content-Security-Policy stays, and browsers enforce both.
 */
export function securityHeaders(hsts: Environment['hsts']): IHTTPRouteFilter {
  return {
    type: 'ResponseHeaderModifier',
    responseHeaderModifier: {
      set: [
        { name: 'Strict-Transport-Security', value: hstsValue(hsts) },
        { name: 'X-Content-Type-Options', value: 'nosniff' },
        { name: 'X-Frame-Options', value: 'DENY' },
        { name: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
      ],
      add: [{ name: 'Content-Security-Policy', value: "frame-ancestors 'none'" }],
    },
  };
}

/**
 * The public routes: every host and path to its service over HTTPS with the security headers, and
 * a single route that sends anything arriving over plain HTTP to HTTPS.
 */
export class PublicRoutes extends Construct {
  constructor(scope: Construct, id: string, props: PublicRoutesProps) {
    super(scope, id);
    const { identity, hosts } = props;
    const gateway = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: props.gatewayName };

    // The only route of the plain-HTTP listener. Its one rule matches every path (PathPrefix /,
    // what the CRD defaults an absent `matches` to, written out: test/crd-defaults.test.ts), and
    // the ACME HTTP-01 solver route cert-manager adds for the same host still wins for its token:
    // Gateway API ranks an Exact path match above any prefix, across routes.
    // No port in the redirect: with the scheme changed, the gateway uses 443.
    new ModelObject(this, FIXED_NAMES.httpsRedirect, new HTTPRoute({
      metadata: appMetadata(identity, { name: FIXED_NAMES.httpsRedirect, labelName: 'gateway', component: 'gateway' }),
      spec: {
        parentRefs: [{ ...gateway, sectionName: HTTP_LISTENER }],
        hostnames: hosts.map((h) => h.hostname),
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }],
        }],
      },
    }));

    for (const host of hosts) {
      new ModelObject(this, host.hostname, new HTTPRoute({
        metadata: appMetadata(identity, { name: host.name, labelName: 'gateway', component: 'gateway' }),
        spec: {
          parentRefs: [{ ...gateway, sectionName: httpsListenerName(host.hostname) }],
          hostnames: [host.hostname],
          rules: host.rules.map((r) => ({
            matches: [{ path: { type: 'PathPrefix' as const, value: r.path } }],
            filters: [securityHeaders(props.hsts)],
            // weight 1: the CRD's default, written out (test/crd-defaults.test.ts).
            backendRefs: [{ group: '', kind: 'Service', name: r.service, port: SERVICE_PORT, weight: 1 }],
          })),
        },
      }));
    }
  }
}
