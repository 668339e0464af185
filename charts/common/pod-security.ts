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

/** A Pod Security Standard level. */
export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/**
 * Namespace labels that make the admission controller enforce `enforce` (`restricted` unless a
 * platform namespace needs less), while always auditing and warning at `restricted`, so every pod
 * short of it shows up in the audit log and in `kubectl`'s warnings.
 */
export function podSecurityLabels(kubernetesVersion: string, enforce: PodSecurityLevel = 'restricted'): Record<string, string> {
  const version = `v${kubernetesVersion}`;
  return {
    'pod-security.kubernetes.io/enforce': enforce,
    'pod-security.kubernetes.io/enforce-version': version,
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': version,
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': version,
  };
}
