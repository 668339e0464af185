/**
 * ScheduledJob: what one configured job becomes (a CronJob with the same security, injected
 * settings and flows as a service, and a batch job's schedule, deadlines and history), through the
 * whole gate, and the configuration errors a job can be given. The box designer, with a job that
 * expires old renders, is the fixture; variants flip each decision.
 */
import { ScheduledJob } from '../charts/app/scheduled-job';
import { IGNORE_DISRUPTION } from '../charts/common/batch-pod';
import { restrictedContainerSecurityContext } from '../charts/common/pod-security';
import { appIdentity } from '../environments/model/identity';
import { injectedEnv } from '../environments/model/injected-env';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthesizeEnvironment } from '../pipeline/synth';
import { boxDesignerWithRenderer, configProblems } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
const EXPIRE = {
  description: 'deletes renders nobody downloaded within a week',
  imageOf: 'renderer',
  command: ['python', '-m', 'boxes.expire'],
  args: ['--older-than', '7d'],
  schedule: '15 3 * * *',
  timeZone: 'Europe/Berlin',
  resources: RESOURCES,
  runAsUser: 1000,
  env: { RENDER_OUTPUT: '$(UPLOADS_DIR)/renders' },
  uses: ['postgres', 'uploads'],
};

/** The box designer with its expiry job, and `job` over it. */
const withJob = (job: object = {}, edit?: (c: any) => void) => boxDesignerWithRenderer({ jobs: { 'expire-renders': { ...EXPIRE, ...job } } }, edit);

/** The job alone, as AppChart builds it. */
function synth(env: Environment): K8sObject[] {
  const data = buildModel(env).data;
  const job = env.jobs['expire-renders'];
  return synthConstruct((scope) => new ScheduledJob(scope, 'expire-renders', {
    identity: appIdentity(env), name: 'expire-renders', job, injectedEnv: injectedEnv(data, job.uses), priorityClassName: 'box-designer-batch',
    uploads: data.uploads ? { claimName: data.uploads.claim, mountPath: data.uploads.mountPath } : undefined,
  }));
}
const cronJob = (objects: K8sObject[]) => only(objects, 'CronJob');
const podSpec = (objects: K8sObject[]) => cronJob(objects).spec.jobTemplate.spec.template.spec;
const container = (objects: K8sObject[]) => podSpec(objects).containers[0];

describe('a scheduled job', () => {
  const objects = synth(withJob());

  test('is a CronJob and its ServiceAccount, with no token', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['CronJob', 'ServiceAccount']);
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(podSpec(objects).automountServiceAccountToken).toBe(false);
  });

  test('runs on its schedule in its time zone, one run at a time by default, within its deadlines, keeping history', () => {
    expect(cronJob(objects).spec).toMatchObject({
      schedule: '15 3 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3,
    });
    expect(cronJob(objects).spec.jobTemplate.spec)
      .toMatchObject({ activeDeadlineSeconds: 3600, backoffLimit: 2, podFailurePolicy: { rules: [IGNORE_DISRUPTION] } });
    const other = cronJob(synth(withJob({ concurrencyPolicy: 'Replace', activeDeadlineSeconds: 600, backoffLimit: 0, failedJobsHistoryLimit: 1 }))).spec;
    expect([other.concurrencyPolicy, other.jobTemplate.spec.activeDeadlineSeconds, other.jobTemplate.spec.backoffLimit, other.failedJobsHistoryLimit])
      .toEqual(['Replace', 600, 0, 1]);
  });

  test('without a time zone, UTC written out (never the controller manager\'s)', () => {
    expect(cronJob(synth(withJob({}, (c) => { delete c.jobs['expire-renders'].timeZone; }))).spec.timeZone).toBe('Etc/UTC');
  });

  test('runs the image of the workload imageOf names, with its own command and arguments', () => {
    expect(container(objects)).toMatchObject({
      image: 'registry.test.invalid/box-designer/renderer:0.4.1@sha256:4444444444444444444444444444444444444444444444444444444444444444',
      command: ['python', '-m', 'boxes.expire'],
      args: ['--older-than', '7d'],
    });
  });

  test('a batch pod: never restarted in place, the batch priority, restricted, its own user', () => {
    expect(podSpec(objects)).toMatchObject({ restartPolicy: 'Never', priorityClassName: 'box-designer-batch', enableServiceLinks: false, serviceAccountName: 'expire-renders' });
    expect(podSpec(objects).securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    expect(container(objects).securityContext).toEqual(restrictedContainerSecurityContext());
    expect(container(objects)).not.toHaveProperty('ports');
  });

  test('gets the settings of what it uses, in an order the kubelet expands, and the uploaded files', () => {
    const names = container(objects).env.map((e: K8sObject) => e.name);
    expect(names).toEqual(expect.arrayContaining(['DATABASE_HOST', 'DATABASE_PASSWORD', 'UPLOADS_DIR', 'RENDER_OUTPUT']));
    expect(names.indexOf('UPLOADS_DIR')).toBeLessThan(names.indexOf('RENDER_OUTPUT'));
    expect(container(objects).volumeMounts).toContainEqual({ name: 'uploads', mountPath: '/data/designs' });
  });
});

describe('through the whole gate', () => {
  test('schema, defaults, policy and flows pass; nothing reaches the job, and it reaches PgBouncer', async () => {
    const env = withJob();
    const result = await synthesizeEnvironment(env);
    expect(result.problems).toEqual([]);
    const network = buildModel(env).network;
    expect(network.subjects.find((s) => s.name === 'expire-renders')?.types).toEqual(['Ingress', 'Egress']);
    const flows = network.flows.filter((f) => [...f.from, ...f.to].some((p) => p.name === 'expire-renders'))
      .map((f) => `${f.from.map((p) => p.name).join(',')} -> ${f.to.map((p) => p.name).join(',')} ${f.ports.map((p) => p.port).join(',')}`);
    expect(flows).toEqual(['expire-renders -> PgBouncer (box-designer-db-pooler) 5432']);
  });

  test('a job with an image of its own and internet egress', async () => {
    const env = boxDesignerWithRenderer({ jobs: { 'expire-renders': { ...EXPIRE, internetEgressPorts: [443] } } }, (c) => {
      delete c.jobs['expire-renders'].imageOf;
    }, 'test/fixtures/images/box-designer-jobs.yaml');
    const result = await synthesizeEnvironment(env);
    expect(result.problems).toEqual([]);
    const job = result.objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'expire-renders')!;
    expect(job.spec.jobTemplate.spec.template.spec.containers[0].image)
      .toBe('registry.test.invalid/box-designer/expire:0.1.0@sha256:5555555555555555555555555555555555555555555555555555555555555555');
    const egress = buildModel(env).network.flows.filter((f) => f.from.some((p) => p.name === 'expire-renders') && f.to.some((p) => p.name === 'the public internet'));
    expect(egress.map((f) => f.ports.map((p) => p.port))).toEqual([[443]]);
  });
});

describe('configuration errors name the job and the field', () => {
  const problems = (job: object, edit?: (c: any) => void) => configProblems(() => withJob(job, edit));

  test('an invalid schedule, one that never runs, an unknown time zone', () => {
    expect(problems({ schedule: '15 3 * *' })).toEqual([
      'box-designer: jobs.expire-renders.schedule ("15 3 * *") is not a valid cron expression: has 4 fields, expected 5 (minute hour day-of-month month day-of-week)',
    ]);
    expect(problems({ schedule: '0 0 31 2 *' })[0]).toMatch(/^box-designer: jobs\.expire-renders\.schedule \("0 0 31 2 \*"\) never/);
    expect(problems({ timeZone: 'Mars/Olympus' })).toEqual(['box-designer: jobs.expire-renders.timeZone ("Mars/Olympus") is not an IANA time zone such as America/New_York']);
    // Names are case-sensitive where the API server looks them up (Go's tzdata).
    expect(problems({ timeZone: 'europe/berlin' })).toEqual(['box-designer: jobs.expire-renders.timeZone ("europe/berlin") is not an IANA time zone such as America/New_York']);
    expect(problems({ timeZone: 'Etc/UTC' })).toEqual([]);
    expect(problems({ timeZone: 'US/Eastern' })).toEqual([]);
    // 02:30 does not exist in Berlin on the day the clocks go forward: that day's run is lost.
    expect(problems({ schedule: '30 2 * * *' })).toEqual([
      'box-designer: jobs.expire-renders.schedule ("30 2 * * *") runs at times Europe/Berlin\'s clocks skip (2025-03-30 02:30 does not exist there): '
        + 'that run is lost, and the next comes 47 h after the one before; schedule it outside the hour the clocks go forward',
    ]);
    expect(problems({ schedule: '30 2 * * *', timeZone: 'Etc/UTC' })).toEqual([]);
  });

  test('an image of a workload that is not there, a name another object takes, a name too long for its Jobs', () => {
    expect(problems({ imageOf: 'painter' })).toEqual(['box-designer: jobs.expire-renders.imageOf ("painter") is not a service or a worker of this environment']);
    expect(problems({}, (c) => { c.jobs.renderer = c.jobs['expire-renders']; delete c.jobs['expire-renders']; })).toEqual([
      'box-designer: jobs.renderer uses the name "renderer", which workers.renderer already takes (each makes a ServiceAccount and a NetworkPolicy of its name)',
    ]);
    const long = `expire-${'r'.repeat(46)}`;
    expect(problems({}, (c) => { c.jobs[long] = c.jobs['expire-renders']; delete c.jobs['expire-renders']; })).toEqual([
      `box-designer: jobs.${long} ("${long}") has 53 characters: a CronJob's name may have 52, as Kubernetes appends 11 for each run's Job`,
    ]);
  });

  test('routes to a job, a service calling one, a component the environment lacks, a job without its own pin', () => {
    expect(problems({}, (c) => { c.hosts[0].routes.push({ path: '/expire', service: 'expire-renders' }); })).toEqual([
      'box-designer: hosts[0].routes[1].service ("expire-renders") is a scheduled job, which serves no HTTP: route to a service',
    ]);
    expect(problems({}, (c) => { c.services.api.calls = ['expire-renders']; })).toEqual([
      'box-designer: services.api.calls[0] ("expire-renders") is a scheduled job, which serves no HTTP: call a service',
    ]);
    expect(problems({ uses: ['redis'] }, (c) => { delete c.jobs['expire-renders'].env; })).toEqual([
      'box-designer: jobs.expire-renders.uses[0] ("redis") is not configured: add data.redis, or remove it from uses',
    ]);
    // A pin beside imageOf would look like the image in use.
    expect(configProblems(() => boxDesignerWithRenderer({ jobs: { 'expire-renders': EXPIRE } }, undefined, 'test/fixtures/images/box-designer-jobs.yaml'))).toEqual([
      'box-designer: test/fixtures/images/box-designer-jobs.yaml: jobs.expire-renders pins an image, but jobs.expire-renders runs renderer\'s (imageOf): remove the pin or imageOf',
    ]);
    expect(problems({}, (c) => { delete c.jobs['expire-renders'].imageOf; })).toEqual([
      'box-designer: test/fixtures/images/box-designer-renderer.yaml: jobs.expire-renders is required: every scheduled job of the environment needs an image pin',
    ]);
  });
});
