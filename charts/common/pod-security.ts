/**
 * Pod Security Standards `restricted`, plus a read-only root filesystem: the one definition every
 * workload uses, so no pod can drift from it.
 */
import type { IPodSecurityContext, ISecurityContext } from 'kubernetes-models/v1';

export function restrictedPodSecurityContext(uid: number): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    // Skips the recursive chown of large volumes on every start when ownership is already right.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContext(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Namespace labels that make the admission controller enforce `restricted`. */
export function podSecurityLabels(kubernetesVersion: string): Record<string, string> {
  const version = `v${kubernetesVersion}`;
  return {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': version,
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': version,
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': version,
  };
}
