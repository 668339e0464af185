import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { tlsSecretName } from '../../environments/model/names';
import { CERTIFICATE_DURATION } from '../../environments/rules';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';

export interface HostCertificateProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The one DNS name the certificate is for. */
  readonly hostname: string;
  /** ClusterIssuer that signs it. */
  readonly issuer: string;
  /** How long before expiry cert-manager renews it (a Go duration such as 720h). */
  readonly renewBefore: string;
}

/** The certificate of one public host, stored where the Gateway's HTTPS listener reads it. */
export class HostCertificate extends Construct {
  constructor(scope: Construct, id: string, props: HostCertificateProps) {
    super(scope, id);
    const { identity, hostname } = props;
    const secretName = tlsSecretName(hostname);
    new ModelObject(this, 'Certificate', new Certificate({
      metadata: appMetadata(identity, { name: hostname.replaceAll('.', '-'), labelName: 'gateway', component: 'tls' }),
      spec: {
        secretName,
        dnsNames: [hostname],
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: props.issuer },
        duration: CERTIFICATE_DURATION,
        renewBefore: props.renewBefore,
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        // Not key encipherment: an ECDSA key signs the handshake and never encrypts a key
        // (RFC 5480 does not allow that usage for EC keys).
        usages: ['digital signature', 'server auth'],
      },
    }));
  }
}
