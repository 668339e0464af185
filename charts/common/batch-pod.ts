import type { IPodFailurePolicyRule } from 'kubernetes-models/batch/v1/PodFailurePolicyRule';

/**
 * What the pod of every run-to-completion Job here has (the backups, the migration, the smoke
 * test): its own ServiceAccount with no token mounted (none of them talks to the API server), no
 * service links in its environment, and no restart in place (podFailurePolicy needs Never, and a
 * failed pod keeps its logs for whoever reads why).
 */
export function batchPodBasics(serviceAccountName: string, priorityClassName?: string) {
  return {
    serviceAccountName,
    ...(priorityClassName ? { priorityClassName } : {}),
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Never' as const,
  };
}

/**
 * The podFailurePolicy rule every such Job starts with: a pod lost to a drained node or to
 * preemption (batch priority goes first) is not the job's failure, so it starts again without
 * using up a retry.
 */
export const IGNORE_DISRUPTION: IPodFailurePolicyRule = { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] };
