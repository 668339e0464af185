/**
 * How every Application of this project syncs: automatically, pruning what left git and undoing
 * changes made by hand, deleting last, and retrying a failed sync with backoff (a webhook that is
 * not up yet, a CRD that is still being established) before it reports the sync as failed.
 */
import type { ISyncPolicy } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/SyncPolicy';

export interface SyncPolicyOptions {
  /** Apply with server-side apply: needed for objects over the 256 KiB client-side annotation limit (large CRDs). @default false */
  readonly serverSideApply?: boolean;
}

/** Retries: 10 s, 20 s, 40 s … capped at 5 minutes, 10 times (about half an hour in all). */
export const SYNC_RETRY = { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } } as const;

export function syncPolicy(opts: SyncPolicyOptions = {}): ISyncPolicy {
  return {
    automated: { enabled: true, prune: true, selfHeal: true, allowEmpty: false },
    syncOptions: [
      // Deletions wait until everything else of the sync is applied and healthy.
      'PruneLast=true',
      // Only objects that differ are applied: a sync of a large tree does not touch the rest.
      'ApplyOutOfSyncOnly=true',
      ...(opts.serverSideApply ? ['ServerSideApply=true'] : []),
    ],
    retry: { limit: SYNC_RETRY.limit, backoff: { ...SYNC_RETRY.backoff } },
  };
}
