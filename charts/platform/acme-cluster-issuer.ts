import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { gatewayName } from '../../environments/model/names';
import { HTTP_LISTENER } from './public-gateway';

/** Let's Encrypt's two ACME directories: staging for rehearsals (untrusted, high rate limits). */
export const ACME_DIRECTORIES = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
} as const;

export type AcmeIssuerName = keyof typeof ACME_DIRECTORIES;

export interface AcmeClusterIssuerProps {
  /** Supplies the ACME contact address, the Gateway name and the labels. */
  readonly env: Environment;
  /** Which directory, and the ClusterIssuer's name. */
  readonly issuer: AcmeIssuerName;
}

/**
 * An ACME ClusterIssuer answering HTTP-01 challenges through the environment's Gateway: cert-manager
 * attaches a temporary HTTPRoute for /.well-known/acme-challenge/<token> to the plain-HTTP listener,
 * whose exact path wins over the redirect-everything route.
 */
export class AcmeClusterIssuer extends Construct {
  constructor(scope: Construct, id: string, props: AcmeClusterIssuerProps) {
    super(scope, id);
    const { env, issuer } = props;
    new ModelObject(this, 'ClusterIssuer', new ClusterIssuer({
      metadata: { name: issuer, labels: recommendedLabels(env, issuer, 'tls') },
      spec: {
        acme: {
          server: ACME_DIRECTORIES[issuer],
          email: env.tls.acmeEmail,
          // The ACME account key; cert-manager generates it on first use.
          privateKeySecretRef: { name: `${issuer}-account-key` },
          solvers: [{
            http01: {
              gatewayHTTPRoute: {
                // No namespace: the solver route is created in the Certificate's namespace, and a
                // parentRef without one names the Gateway there. A fixed namespace would send every
                // other namespace's challenges to a Gateway whose listener refuses their routes.
                parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gatewayName(env), sectionName: HTTP_LISTENER }],
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
