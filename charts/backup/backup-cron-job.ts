/**
 * One scheduled backup task: its ServiceAccount and its CronJob, with everything a production review
 * asks of a batch job decided here once for all three backup jobs. (Its NetworkPolicy comes from
 * the model's flows, with every other: charts/security/network-policies.ts.)
 */
import { Construct } from 'constructs';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer, IPodSecurityContext, IVolume } from 'kubernetes-models/v1';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { AppIdentity } from '../../environments/model/identity';
import { batchPodBasics, IGNORE_DISRUPTION } from '../common/batch-pod';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';

/** Exit codes of the shipped scripts (lib.sh) that no retry can fix. */
export const SCRIPT_EXIT_CONFIG = 64;
export const SCRIPT_EXIT_DATA = 65;
/** restic (0.17 and later): the repository does not exist (10), the password is wrong (12). */
export const RESTIC_EXIT_NO_REPOSITORY = 10;
export const RESTIC_EXIT_WRONG_PASSWORD = 12;

export interface CronJobTiming {
  /**
   * How late a run may still start (controller down, the previous run still going under Forbid).
   * Also keeps the controller from giving up on a CronJob that missed more than 100 schedules.
   */
  readonly startingDeadlineSeconds: number;
  /** Hard limit on a run, retries included: a hung restic or pg_dump is killed, and the Job fails. */
  readonly activeDeadlineSeconds: number;
  /** Pods tried again after a failure that a retry can fix (network, a replica restarting). */
  readonly backoffLimit: number;
  /** How long a finished Job (and its pods' logs) stays for inspection. */
  readonly ttlSecondsAfterFinished: number;
  readonly successfulJobsHistoryLimit: number;
  readonly failedJobsHistoryLimit: number;
}

export interface BackupCronJobProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Name of the CronJob, its ServiceAccount and `app.kubernetes.io/name`. */
  readonly name: string;
  /** 5-field cron, interpreted in UTC. */
  readonly schedule: string;
  /** How long a run may take, start late and stay around, sized to the job's work. */
  readonly timing: CronJobTiming;
  /** The pod's security context (restricted, with the image's user). */
  readonly securityContext: IPodSecurityContext;
  /** Run in order before the containers, each to completion. */
  readonly initContainers: readonly IContainer[];
  readonly containers: readonly IContainer[];
  readonly volumes: readonly IVolume[];
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class BackupCronJob extends Construct {
  constructor(scope: Construct, id: string, props: BackupCronJobProps) {
    super(scope, id);
    const { identity, name, timing } = props;
    const metadata = appMetadata(identity, { name, component: 'backup' });
    const labels = recommendedLabels(identity, name, 'backup');

    new ModelObject(this, 'ServiceAccount', new ServiceAccount({
      metadata,
      // The jobs never call the Kubernetes API; a mounted token would only be something to steal.
      automountServiceAccountToken: false,
    }));

    new ModelObject(this, 'CronJob', new CronJob({
      metadata,
      spec: {
        schedule: props.schedule,
        // Explicit, so a schedule means the same in every cluster whatever the controller's zone.
        timeZone: 'Etc/UTC',
        // Two runs against one repository only fight over its lock; the next run picks up.
        concurrencyPolicy: 'Forbid',
        // Written, so a CronJob suspended by hand is drift Argo CD shows and puts back.
        suspend: false,
        startingDeadlineSeconds: timing.startingDeadlineSeconds,
        successfulJobsHistoryLimit: timing.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: timing.failedJobsHistoryLimit,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: timing.backoffLimit,
            activeDeadlineSeconds: timing.activeDeadlineSeconds,
            ttlSecondsAfterFinished: timing.ttlSecondsAfterFinished,
            podFailurePolicy: {
              rules: [
                IGNORE_DISRUPTION,
                // Failures another pod would only repeat (bad settings, data that fails its
                // checks, a missing repository, a wrong password): fail the Job now, loudly.
                {
                  action: 'FailJob',
                  onExitCodes: {
                    operator: 'In',
                    values: [RESTIC_EXIT_NO_REPOSITORY, RESTIC_EXIT_WRONG_PASSWORD, SCRIPT_EXIT_CONFIG, SCRIPT_EXIT_DATA],
                  },
                },
              ],
            },
            template: {
              metadata: { labels },
              spec: {
                ...batchPodBasics(name, props.priorityClassName),
                securityContext: props.securityContext,
                terminationGracePeriodSeconds: 30,
                initContainers: [...props.initContainers],
                containers: [...props.containers],
                volumes: [...props.volumes],
              },
            },
          },
        },
      },
    }));
  }
}
