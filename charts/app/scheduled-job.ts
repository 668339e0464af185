/**
 * One scheduled job of the application (a nightly report, a purge of expired files): its
 * ServiceAccount and its CronJob, with the same security, injected settings and flows as a service
 * and what a production review asks of a batch job: an explicit time zone, no overlapping runs
 * unless asked, deadlines, history to read a failure from, and no retry burnt on a drained node.
 * (Its NetworkPolicy comes from the model's flows; its staleness alert from
 * charts/observability/scheduled-job-alerts.ts.)
 */
import { Construct } from 'constructs';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { AppIdentity } from '../../environments/model/identity';
import type { InjectedVariable } from '../../environments/model/injected-env';
import type { ScheduledJobConfig } from '../../environments/schema';
import { batchPodBasics, IGNORE_DISRUPTION } from '../common/batch-pod';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import { imageReference, workloadEnv } from './web-service';
import { workloadVolumes, type UploadsMount } from './workload-parts';

export interface ScheduledJobProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Job key in the configuration: the CronJob's, its ServiceAccount's and its pods' name. */
  readonly name: string;
  /** The job's configuration, defaults already applied by the schema, its image resolved. */
  readonly job: ScheduledJobConfig;
  /** Connection settings of the data components it uses (environments/model/injected-env.ts). @default none */
  readonly injectedEnv?: readonly InjectedVariable[];
  /** The uploaded-files volume, mounted when the job uses it. @default not mounted */
  readonly uploads?: UploadsMount;
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class ScheduledJob extends Construct {
  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const { identity, name, job: j } = props;
    const metadata = appMetadata(identity, { name, component: 'scheduled-job' });
    const labels = recommendedLabels(identity, name, 'scheduled-job');

    new ModelObject(this, 'ServiceAccount', new ServiceAccount({
      metadata,
      // A job of the application never talks to the Kubernetes API; a mounted token would only be something to steal.
      automountServiceAccountToken: false,
    }));

    const { volumes, mounts } = workloadVolumes(j.writablePaths, props.uploads);
    const env = workloadEnv(props.injectedEnv ?? [], j.env);
    const container: IContainer = {
      name,
      // Its own pin, or the pinned image of the service or worker it names (imageOf).
      image: imageReference(j.image),
      imagePullPolicy: 'IfNotPresent',
      ...(j.command ? { command: [...j.command] } : {}),
      ...(j.args.length > 0 ? { args: [...j.args] } : {}),
      env,
      resources: { requests: { ...j.resources.requests }, limits: { ...j.resources.limits } },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: mounts,
      ...TERMINATION_MESSAGE,
    };

    new ModelObject(this, 'CronJob', new CronJob({
      metadata,
      spec: {
        schedule: j.schedule,
        // Always written: without it the schedule is read in the controller manager's zone, which
        // differs between clusters.
        timeZone: j.timeZone,
        concurrencyPolicy: j.concurrencyPolicy,
        // Written, so a CronJob suspended by hand is drift Argo CD shows and puts back.
        suspend: false,
        // Also keeps the controller from giving up on a CronJob that missed more than 100 schedules.
        startingDeadlineSeconds: j.startingDeadlineSeconds,
        successfulJobsHistoryLimit: j.successfulJobsHistoryLimit,
        failedJobsHistoryLimit: j.failedJobsHistoryLimit,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: j.backoffLimit,
            activeDeadlineSeconds: j.activeDeadlineSeconds,
            podFailurePolicy: { rules: [IGNORE_DISRUPTION] },
            template: {
              metadata: { labels },
              spec: {
                ...batchPodBasics(name, props.priorityClassName),
                securityContext: restrictedPodSecurityContext(j.runAsUser),
                terminationGracePeriodSeconds: 30,
                containers: [container],
                volumes,
              },
            },
          },
        },
      },
    }));
  }
}
