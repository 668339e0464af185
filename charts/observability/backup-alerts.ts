/**
 * Every backup CronJob of the environment is watched for its last success: one that stops
 * succeeding (failing, never starting, suspended, deleted) is seen after its own schedule's
 * longest gap plus the time a run may take, whatever the reason. JobFailed (workload-alerts.ts)
 * tickets each failed run at once; this says the backups themselves are missing.
 */
import { Construct } from 'constructs';
import { longestGapMinutes } from '../../environments/cron';
import type { AppIdentity } from '../../environments/model/identity';
import type { Model } from '../../environments/model/model';
import { requiredSection } from '../../environments/model/names';
import { TIMING } from '../backup/backup-jobs';
import { AlertRules, type Alert, type Severity } from './alert-rules';

/** One backup CronJob as its staleness alert needs it. */
export interface WatchedBackupJob {
  /** The CronJob's name: the alert's `service`. */
  readonly cronJob: string;
  /** Its 5-field schedule, UTC. */
  readonly schedule: string;
  /**
   * How long after a scheduled time a run may still succeed: how late it may start
   * (startingDeadlineSeconds) plus how long it may run (activeDeadlineSeconds).
   */
  readonly allowedRunSeconds: number;
  readonly severity: Severity;
  /** What has no backup while it is stale, for the description. */
  readonly atRisk: string;
}

/**
 * The backup CronJobs the backup chart makes (charts/backup/backup-chart.ts), each with its
 * schedule from the configuration and its deadlines (charts/backup/backup-jobs.ts, TIMING).
 *
 * Severity by what is at risk against the recovery point objectives (docs/disaster-recovery.md):
 * - the uploaded files have no other copy than their hourly snapshot (RPO 1 h): when it is stale,
 *   every file written since is lost with the volume, and the RPO is already missed several times
 *   over: critical;
 * - the database's RPO (under 5 minutes) rests on WAL archiving and base backups, watched by their
 *   own alerts; the nightly dump is the second line, for an unusable archive: warning;
 * - the weekly restore test puts no data at risk by itself: warning.
 */
export function watchedBackupJobs(model: Model): WatchedBackupJob[] {
  const backups = model.data.backups;
  if (!backups) return [];
  const config = requiredSection(model.env, 'backups');
  const allowed = (t: { readonly startingDeadlineSeconds: number; readonly activeDeadlineSeconds: number }) =>
    t.startingDeadlineSeconds + t.activeDeadlineSeconds;
  return [
    ...(backups.database && config.databaseSchedule ? [{
      cronJob: backups.database.job, schedule: config.databaseSchedule, allowedRunSeconds: allowed(TIMING.database), severity: 'warning' as const,
      atRisk: 'the logical dumps, the second line behind WAL archiving and base backups, are missing what changed since',
    }] : []),
    ...(backups.uploads && config.filesSchedule ? [{
      cronJob: backups.uploads.job, schedule: config.filesSchedule, allowedRunSeconds: allowed(TIMING.files), severity: 'critical' as const,
      atRisk: 'uploaded files written since are in no backup, and lost with the volume',
    }] : []),
    {
      cronJob: backups.verifyJob, schedule: config.verifySchedule, allowedRunSeconds: allowed(TIMING.verify), severity: 'warning' as const,
      atRisk: 'nothing has proved since that the backups restore',
    },
  ];
}

/** Seconds a backup CronJob's last success may be old before its alert fires: longest gap plus run time. */
export function staleAfterSeconds(job: WatchedBackupJob): number {
  const gap = longestGapMinutes(job.schedule);
  // The configuration's rules refuse a schedule that never runs: this is a bug if it happens.
  if (gap === undefined) throw new Error(`${job.cronJob}: schedule ${job.schedule} never runs`);
  return gap * 60 + job.allowedRunSeconds;
}

/** `90000` → `1d 1h`: seconds as days, hours and minutes, for a description. */
export function spelledDuration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const parts = [[Math.floor(minutes / 1440), 'd'], [Math.floor(minutes / 60) % 24, 'h'], [minutes % 60, 'm']] as const;
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join(' ') || '0m';
}

export interface BackupAlertsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The backup CronJobs (watchedBackupJobs). */
  readonly jobs: readonly WatchedBackupJob[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule's name. */
export const BACKUP_ALERTS = 'backup-alerts';
/** The alert of every backup CronJob. */
export const BACKUP_STALE = 'BackupStale';

/** One CronJob as a staleness alert words it. */
export interface StaleCronJob {
  /** The CronJob's name: the alerts' `service`. */
  readonly cronJob: string;
  readonly schedule: string;
  /** The schedule's time zone, as the description names it (`UTC`). */
  readonly timeZone: string;
  /** Seconds its last success may be old before the alert fires. */
  readonly thresholdSeconds: number;
  /** Seconds of that for a late start and the run itself (the rest is the schedule's gap). */
  readonly allowedRunSeconds: number;
  readonly severity: Severity;
  /** `The backup CronJob`: how the description starts. */
  readonly what: string;
  /** What it means while the job is stale, for the description. */
  readonly consequence: string;
  /** What is not done while the CronJob is missing, for the description of its absence. */
  readonly missing: string;
}

/**
 * A CronJob's two staleness conditions: its last success (or, while there has been none, its
 * creation) older than its threshold, and the CronJob missing while kube-state-metrics reports the
 * namespace. BackupStale and ScheduledJobStale both.
 */
export function staleCronJobAlerts(alert: string, namespace: string, job: StaleCronJob): Alert[] {
  const selector = `namespace="${namespace}",cronjob="${job.cronJob}"`;
  const labels = { namespace, service: job.cronJob };
  const bound = `its schedule \`${job.schedule}\` (${job.timeZone}) leaves up to ${spelledDuration(job.thresholdSeconds - job.allowedRunSeconds)} between runs, `
    + `and a run may start late and take up to ${spelledDuration(job.allowedRunSeconds)}`;
  // `for` only rides out one scrape's gap: the threshold is already the whole allowance.
  const common = { alert, for: '3m', severity: job.severity, labels } as const;
  return [
    {
      // The last success, or while there has been none (kube-state-metrics exposes
      // kube_cronjob_status_last_successful_time only once one run has succeeded) the
      // creation: a CronJob that never succeeded is stale once it has existed that long.
      ...common,
      expr: `time() - (\n  max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${selector}})\n`
        + `  or\n  max by (namespace, cronjob) (kube_cronjob_created{${selector}})\n) > ${job.thresholdSeconds}`,
      summary: `${job.cronJob} has not succeeded for {{ $value | humanizeDuration }}`,
      description: `${job.what} ${job.cronJob} (namespace {{ $labels.namespace }}) has not completed a run successfully for `
        + `{{ $value | humanizeDuration }} (since its last success, or since it was created if it never succeeded); ${bound}. `
        + `${job.consequence}.`,
    },
    {
      // The CronJob itself gone (deleted and not restored by Argo CD): no series says it is
      // stale, so its absence must. Only while kube-state-metrics reports the namespace: when
      // the exporter is down, TargetDown says so, instead of every job at once. `reason`
      // tells the two rules of an alert apart (promtool refuses two alike).
      ...common,
      labels: { ...labels, reason: 'CronJobMissing' },
      expr: `absent(kube_cronjob_created{${selector}})\nand on () count(kube_namespace_created{namespace="${namespace}"}) > 0`,
      summary: `${job.cronJob}: ${job.what.replace(/^The /, 'the ')} does not exist`,
      description: `kube-state-metrics reports namespace {{ $labels.namespace }} but no CronJob ${job.cronJob} in it: ${job.missing}.`,
    },
  ];
}

export class BackupAlerts extends Construct {
  constructor(scope: Construct, id: string, props: BackupAlertsProps) {
    super(scope, id);
    const { identity } = props;
    const alerts: Alert[] = props.jobs.flatMap((job) => staleCronJobAlerts(BACKUP_STALE, identity.namespace, {
      cronJob: job.cronJob,
      schedule: job.schedule,
      timeZone: 'UTC',
      thresholdSeconds: staleAfterSeconds(job),
      allowedRunSeconds: job.allowedRunSeconds,
      severity: job.severity,
      what: 'The backup CronJob',
      consequence: `Until it succeeds, ${job.atRisk}`,
      missing: `nothing runs this backup; ${job.atRisk}`,
    }));
    if (alerts.length === 0) return;
    new AlertRules(this, 'rules', {
      identity,
      name: BACKUP_ALERTS,
      labelName: 'backups',
      runbookBase: props.runbookBase,
      groups: [{ name: 'backups', alerts }],
    });
  }
}
