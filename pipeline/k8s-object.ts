/**
 * A Kubernetes object as the checks read it: plain JSON of any kind, before or after rendering.
 * Objects of every kind and version pass through here, so the checks read fields defensively.
 */
export type K8sObject = Record<string, any>;

/** `Kind namespace/name`: how messages name an object. */
export function ref(o: K8sObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind} ${ns}${o.metadata?.name}`;
}
