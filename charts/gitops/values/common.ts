/**
 * Small shapes the platform charts' values share: resource requests as every chart spells them,
 * and the in-cluster DNS name of a Service (one release's values naming another release's Service).
 */

/** What the scheduler reserves for a container. Requests only: limits stay each chart's default. */
export interface ResourceRequests {
  readonly requests: {
    /** CPU, in Kubernetes quantity syntax (`100m`). */
    readonly cpu: string;
    /** Memory, in Kubernetes quantity syntax (`128Mi`). */
    readonly memory: string;
  };
}

export function requests(cpu: string, memory: string): ResourceRequests {
  return { requests: { cpu, memory } };
}

/** A Service's fully qualified name inside the cluster: `<name>.<namespace>.svc.<clusterDomain>`. */
export function serviceHost(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}
