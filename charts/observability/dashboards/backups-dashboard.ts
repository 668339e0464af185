/**
 * The backups: when each backup CronJob last succeeded, how long its runs take and which failed
 * (kube-state-metrics' CronJob and Job series), and PostgreSQL's base backups as the Barman Cloud
 * plugin reports them. No metric measures a backup's size: the backup scripts push none, restic's
 * repository statistics are not exported, and the plugin reports only timestamps; the dashboard
 * says so and shows the size of what the backups copy instead.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, dashboardMeta, note, stat, timeseries, type DashboardContext, type Section } from './kit';
import { baseBackupAgeExpr } from './postgres-dashboard';

/** One backup CronJob. */
export interface BackupJob {
  readonly cronJob: string;
  /** What it does, for titles: `PostgreSQL dump`, `uploaded files`, `restore test`. */
  readonly what: string;
  /**
   * Age of its last success beyond which a run was missed: the longest gap between two scheduled
   * runs, plus how late a run may start and how long it may run (its deadlines).
   */
  readonly overdueSeconds: number;
}

export interface BackupsDashboardProps {
  readonly context: DashboardContext;
  readonly namespace: string;
  readonly jobs: readonly BackupJob[];
  /** PostgreSQL's base backups, when there is a database: its instance pods and when a backup is due or missed. */
  readonly baseBackups?: { readonly instances: string; readonly dueSeconds: number; readonly missedSeconds: number };
  /** The database the dump copies, when there is one: its instance pods and its name. */
  readonly database?: { readonly instances: string; readonly name: string };
  /** The claim of uploaded files the files backup copies, when there is one. */
  readonly uploadsClaim?: string;
}

export const BACKUPS_DASHBOARD_KIND = 'backups';

export function backupsDashboard(props: BackupsDashboardProps): Dashboard {
  const ns = `namespace="${props.namespace}"`;
  // A CronJob names each Job `<cronjob>-<scheduled time in minutes>`: a run started by hand from
  // the CronJob under another name is not counted.
  const runs = (job: BackupJob) => `${ns},job_name=~"${job.cronJob}-[0-9]+"`;
  const hours = (s: number) => `${Number((s / 3600).toFixed(1))} h`;

  const lastSuccess: Section = {
    title: 'Last success',
    panels: [
      ...props.jobs.map((job) => stat({
        title: `${job.cronJob}: since the last success`,
        description: `Time since the ${job.what} (CronJob ${job.cronJob}) last completed. `
          + `Red beyond ${hours(job.overdueSeconds)}: the longest gap of its schedule plus its start and run deadlines, so a run was missed or failed.`,
        unit: 's', width: 6, thresholds: { base: 'green', steps: [[job.overdueSeconds, 'red']] },
        queries: [{ expr: `time() - max(kube_cronjob_status_last_successful_time{${ns},cronjob="${job.cronJob}"})`, legend: 'age' }],
      })),
      ...(props.baseBackups ? [stat({
        title: 'PostgreSQL base backup: since the last one',
        description: 'Age of the newest base backup in the object store (Barman Cloud plugin). Orange once the next scheduled one is due, red once one was missed.',
        unit: 's', width: 6,
        thresholds: { base: 'green', steps: [[props.baseBackups.dueSeconds, 'orange'], [props.baseBackups.missedSeconds, 'red']] },
        queries: [{ expr: baseBackupAgeExpr(props.baseBackups.instances), legend: 'age' }],
      })] : []),
    ],
  };

  const history: Section = {
    title: 'Runs',
    panels: [
      ...props.jobs.map((job) => timeseries({
        title: `${job.cronJob}: run durations`,
        description: `How long each kept run of the ${job.what} took, from start to completion (Jobs are kept until their TTL).`,
        unit: 's', width: 8, min: 0, points: true,
        queries: [{
          expr: `max by (job_name) (kube_job_status_completion_time{${runs(job)}})\n-\nmax by (job_name) (kube_job_status_start_time{${runs(job)}})`,
          legend: '{{job_name}}',
        }],
      })),
      stat({
        title: 'Failed runs kept',
        description: 'Runs of each job that failed (all retries spent or a deadline passed) and are still kept: look at their pods\' logs.',
        width: 12, decimals: 0, thresholds: { base: 'green', steps: [[1, 'red']] },
        queries: props.jobs.map((job) => ({ expr: `sum(kube_job_failed{${runs(job)},condition="true"}) or vector(0)`, legend: job.cronJob })),
      }),
      timeseries({
        title: 'Failed pods per run',
        description: 'Pods of a run that failed: each is a retry, up to the job\'s backoff limit.',
        width: 12, min: 0, decimals: 0,
        queries: props.jobs.map((job) => ({ expr: `sum by (job_name) (kube_job_status_failed{${runs(job)}})`, legend: '{{job_name}}' })),
      }),
      timeseries({
        title: 'Runs in progress',
        description: 'Jobs each CronJob is running now.',
        width: 24, min: 0, decimals: 0,
        queries: props.jobs.map((job) => ({ expr: `sum(kube_cronjob_status_active{${ns},cronjob="${job.cronJob}"})`, legend: job.cronJob })),
      }),
    ],
  };

  const sizes: Section = {
    title: 'Sizes',
    panels: [
      note('Backup sizes are not measured',
        'No metric reports the size of a backup: the backup scripts (`charts/backup/scripts`) push none, restic\'s repository statistics '
        + '(`restic stats`) are not exported, and the Barman Cloud plugin reports only timestamps. The panels below show the size of what the '
        + 'backups copy, which bounds a full copy; `restic stats --mode raw-data` in a backup pod gives a repository\'s size.'),
      ...(props.database ? [timeseries({
        title: `Database ${props.database.name}: size`,
        description: 'What the nightly dump and the base backups copy.',
        unit: 'bytes', width: 12, min: 0,
        queries: [{ expr: `max(cnpg_pg_database_size_bytes{${props.database.instances},datname="${props.database.name}"})`, legend: props.database.name }],
      })] : []),
      ...(props.uploadsClaim ? [timeseries({
        title: `Uploaded files: volume used (${props.uploadsClaim})`,
        description: 'What the files backup copies.',
        unit: 'bytes', width: 12, min: 0,
        queries: [{ expr: `max(kubelet_volume_stats_used_bytes{${ns},persistentvolumeclaim="${props.uploadsClaim}"})`, legend: props.uploadsClaim }],
      })] : []),
    ],
  };

  return buildDashboard(
    dashboardMeta(props.context, BACKUPS_DASHBOARD_KIND, 'Backups',
      'Last success, durations and failures of every backup CronJob, PostgreSQL base backups, and the size of what the backups copy.'),
    [lastSuccess, history, sizes],
  );
}
