import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { AcmeClusterIssuer, ACME_DIRECTORIES, type AcmeIssuerName } from './acme-cluster-issuer';
import { AppNamespace } from './app-namespace';
import { HostCertificate } from './host-certificate';
import { PublicGateway } from './public-gateway';

export interface PlatformChartProps {
  /** The environment whose namespace, issuers, Gateway and certificates to build. */
  readonly env: Environment;
}

/**
 * What the application stands on: its namespace, the ACME issuers, the Gateway and the host
 * certificates. Both issuers exist in every cluster so that switching an environment between them
 * is a one-line change.
 */
export class PlatformChart extends Chart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env } = props;
    new AppNamespace(this, 'namespace', { env });
    for (const issuer of Object.keys(ACME_DIRECTORIES) as AcmeIssuerName[]) {
      new AcmeClusterIssuer(this, issuer, { env, issuer });
    }
    new PublicGateway(this, 'gateway', { env });
    for (const host of env.hosts) {
      new HostCertificate(this, `certificate-${host.hostname}`, { env, hostname: host.hostname });
    }
  }
}
