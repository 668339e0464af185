/**
 * Every scheduled job of the application (charts/app/scheduled-job.ts) is watched for its last
 * success, as the backups are (backup-alerts.ts): one that stops succeeding (failing, never
 * starting, suspended, deleted) is seen after its schedule's longest gap plus the time a run may
 * take. JobFailed (workload-alerts.ts) tickets each failed run at once; this says the job's work
 * is not being done.
 */
import { Construct } from 'constructs';
import { longestGapMinutesIn } from '../../environments/cron';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { AlertRules, type Alert } from './alert-rules';
import { staleCronJobAlerts, type StaleCronJob } from './backup-alerts';

/** The PrometheusRule's name. */
export const SCHEDULED_JOB_ALERTS = 'scheduled-job-alerts';
/** The alert of every scheduled job. */
export const SCHEDULED_JOB_STALE = 'ScheduledJobStale';

/**
 * The scheduled jobs of the configuration as their staleness alert needs them: the longest gap
 * between two runs in the job's time zone (a run moves with the clocks; the rules refuse a
 * schedule whose run the clocks skip), plus how late a run may start and how long it may take.
 */
export function watchedScheduledJobs(env: Pick<Environment, 'jobs'>): StaleCronJob[] {
  return Object.entries(env.jobs).map(([name, j]) => {
    const gap = longestGapMinutesIn(j.schedule, j.timeZone);
    // The configuration's schema refuses a schedule that never runs: this is a bug if it happens.
    if (gap === undefined) throw new Error(`jobs.${name}: schedule ${j.schedule} never runs`);
    const allowedRunSeconds = j.startingDeadlineSeconds + j.activeDeadlineSeconds;
    return {
      cronJob: name,
      schedule: j.schedule,
      timeZone: j.timeZone,
      thresholdSeconds: gap * 60 + allowedRunSeconds,
      allowedRunSeconds,
      severity: j.staleSeverity,
      what: 'The scheduled job',
      consequence: `Its work is not being done (${j.description})`,
      missing: `nothing runs it (${j.description})`,
    };
  });
}

export interface ScheduledJobAlertsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The scheduled jobs (watchedScheduledJobs). */
  readonly jobs: readonly StaleCronJob[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

export class ScheduledJobAlerts extends Construct {
  constructor(scope: Construct, id: string, props: ScheduledJobAlertsProps) {
    super(scope, id);
    const alerts: Alert[] = props.jobs.flatMap((job) => staleCronJobAlerts(SCHEDULED_JOB_STALE, props.identity.namespace, job));
    if (alerts.length === 0) return;
    new AlertRules(this, 'rules', {
      identity: props.identity,
      name: SCHEDULED_JOB_ALERTS,
      labelName: 'scheduled-jobs',
      runbookBase: props.runbookBase,
      groups: [{ name: 'scheduled-jobs', alerts }],
    });
  }
}
