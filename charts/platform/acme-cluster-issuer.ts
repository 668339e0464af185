import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { HTTP_LISTENER } from './public-gateway';

/** Let's Encrypt's two ACME directories: staging for rehearsals (untrusted, high rate limits). */
export const ACME_DIRECTORIES = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
} as const;

export type AcmeIssuerName = keyof typeof ACME_DIRECTORIES;

export interface AcmeClusterIssuerProps {
  /** The application in its environment, for the labels. */
  readonly identity: AppIdentity;
  /** Which directory, and the ClusterIssuer's name. */
  readonly issuer: AcmeIssuerName;
  /** Contact address for the ACME account (expiry and revocation notices). */
  readonly email: string;
  /** Gateway whose HTTP listener answers the HTTP-01 challenges. */
  readonly gatewayName: string;
}

/**
 * An ACME ClusterIssuer answering HTTP-01 challenges through the environment's Gateway: cert-manager
 * attaches a temporary HTTPRoute for /.well-known/acme-challenge/<token> to the plain-HTTP listener,
 * whose exact path wins over the redirect-everything route.
 */
export class AcmeClusterIssuer extends Construct {
  constructor(scope: Construct, id: string, props: AcmeClusterIssuerProps) {
    super(scope, id);
    const { identity, issuer } = props;
    new ModelObject(this, 'ClusterIssuer', new ClusterIssuer({
      metadata: { name: issuer, labels: recommendedLabels(identity, issuer, 'tls') },
      spec: {
        acme: {
          server: ACME_DIRECTORIES[issuer],
          email: props.email,
          // The ACME account key; cert-manager generates it on first use.
          privateKeySecretRef: { name: `${issuer}-account-key` },
          solvers: [{
            http01: {
              gatewayHTTPRoute: {
                // No namespace: the solver route is created in the Certificate's namespace, and a
                // parentRef without one names the Gateway there. A fixed namespace would send every
                // other namespace's challenges to a Gateway whose listener refuses their routes.
                parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: props.gatewayName, sectionName: HTTP_LISTENER }],
                // The Gateway reaches the solver through its endpoints; the NodePort default would
                // open the solver on every node for no purpose.
                serviceType: 'ClusterIP',
              },
            },
          }],
        },
      },
    }));
  }
}
