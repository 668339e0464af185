import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Model } from '../../environments/model/model';
import { gatewayName } from '../../environments/model/names';
import { AcmeClusterIssuer, ACME_DIRECTORIES, type AcmeIssuerName } from './acme-cluster-issuer';
import { AppNamespace } from './app-namespace';
import { HostCertificate } from './host-certificate';
import { PriorityClasses } from './priority-classes';
import { PublicGateway } from './public-gateway';

export interface PlatformChartProps {
  /** The environment's model: a chart is where the model meets the constructs. */
  readonly model: Model;
}

/**
 * What the application stands on: its namespace, the ACME issuers, the Gateway and the host
 * certificates. Both issuers exist in every cluster so that switching an environment between them
 * is a one-line change.
 */
export class PlatformChart extends Chart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env, identity } = props.model;
    const gateway = gatewayName(env);
    new AppNamespace(this, 'namespace', { identity, kubernetesVersion: env.kubernetesVersion });
    new PriorityClasses(this, 'priority', { identity, names: props.model.priorityClasses });
    for (const issuer of Object.keys(ACME_DIRECTORIES) as AcmeIssuerName[]) {
      new AcmeClusterIssuer(this, issuer, { identity, issuer, email: env.tls.acmeEmail, gatewayName: gateway });
    }
    new PublicGateway(this, 'gateway', { identity, name: gateway, className: env.gateway.className, hostnames: env.hosts.map((h) => h.hostname) });
    for (const host of env.hosts) {
      new HostCertificate(this, `certificate-${host.hostname}`, { identity, hostname: host.hostname, issuer: env.tls.issuer, renewBefore: env.tls.renewBefore });
    }
  }
}
