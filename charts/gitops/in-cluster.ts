/**
 * The API server of the cluster Argo CD runs in, as Argo CD names it. Every environment's cluster
 * runs its own Argo CD, so every destination is this one.
 */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
