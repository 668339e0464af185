/**
 * charts/common/sync-waves.ts over the real output: the order cannot deadlock a rollout. Argo CD
 * applies a wave, waits for every object of it to be healthy, and fails the sync when one turns
 * Degraded; so whatever may wait on the outside world comes last in its Application, and what a
 * pod needs to start comes before the pod.
 */
import { matchesGlob } from 'node:path';
import { SYNC_WAVES } from '../charts/common/sync-waves';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { K8sObject } from '../pipeline/k8s-object';
import { podTemplate } from '../pipeline/policy';
import { fileName, modelObjects, synthesizeEnvironment } from '../pipeline/synth';

const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
/** Kinds whose health waits on something outside the Application: an ACME order, DNS, a pod of the other Application mounting the claim. */
const WAITS_OUTSIDE = ['Gateway', 'Certificate', 'HTTPRoute', 'PersistentVolumeClaim'];

describe.each(resolveEnvironments(environments, process.cwd()))('$name', (env) => {
  let groups: { app: string; objects: K8sObject[] }[] = [];

  beforeAll(async () => {
    const result = await synthesizeEnvironment(env);
    const byFile = new Map(modelObjects(result.model).map((o) => [fileName(o), o.object]));
    // Which Application syncs each file: by the include and exclude globs Argo CD is given.
    groups = result.argocdObjects
      .filter((a) => a.kind === 'Application' && a.spec.source.path === `dist/${env.name}`)
      .map((a) => {
        const { include, exclude } = a.spec.source.directory;
        const syncs = (p: string) => (include === undefined || matchesGlob(p, include)) && (exclude === undefined || !matchesGlob(p, exclude));
        const mine = [...byFile.keys()].filter(syncs);
        return { app: a.metadata.name, objects: mine.map((p) => byFile.get(p) as K8sObject) };
      });
  });

  test('the environment has two Applications, the services\' and the data tier\'s', () => {
    expect(groups.map((g) => g.app).sort()).toEqual([`${env.app.name}-${env.name}`, `${env.app.name}-${env.name}-data`]);
  });

  test('what waits on the outside world is in the last wave of its Application', () => {
    for (const { app, objects } of groups) {
      const last = Math.max(...objects.map(wave));
      const early = objects.filter((o) => WAITS_OUTSIDE.includes(o.kind) && wave(o) < last).map((o) => `${o.kind} ${o.metadata.name}`);
      expect({ app, early }).toEqual({ app, early: [] });
      // And nothing in that last wave is something a pod needs to start.
      const needed = objects.filter((o) => wave(o) === last && ['ConfigMap', 'Secret', 'ExternalSecret', 'ServiceAccount', 'NetworkPolicy', 'Service'].includes(o.kind));
      expect({ app, needed: needed.map((o) => `${o.kind} ${o.metadata.name}`) }).toEqual({ app, needed: [] });
    }
  });

  test('a Certificate is never in an earlier wave than the Gateway its HTTP-01 challenge is answered through', () => {
    // (In one wave Argo CD applies both before it waits on either.)
    expect(SYNC_WAVES.Certificate).toBeGreaterThanOrEqual(SYNC_WAVES.Gateway);
  });

  test('the namespace, flows and secrets come before every pod of either Application', () => {
    for (const { objects } of groups) {
      for (const o of objects.filter((x) => podTemplate(x) || ['Cluster', 'Pooler'].includes(x.kind))) {
        expect(wave(o)).toBeGreaterThan(SYNC_WAVES.Namespace);
        expect(wave(o)).toBeGreaterThan(SYNC_WAVES.NetworkPolicy);
        expect(wave(o)).toBeGreaterThan(SYNC_WAVES.ExternalSecret);
        expect(wave(o)).toBeGreaterThan(SYNC_WAVES.PriorityClass);
      }
    }
  });

  test('the data tier\'s Application holds no workload of the services, and theirs no database', () => {
    const kinds = (app: string) => new Set(groups.find((g) => g.app === app)?.objects.map((o) => o.kind));
    expect([...kinds(`${env.app.name}-${env.name}-data`)]).not.toContain('Deployment');
    expect([...kinds(`${env.app.name}-${env.name}`)].filter((k) => ['Cluster', 'Pooler', 'StatefulSet'].includes(k))).toEqual([]);
    // CronJobs: the backups are the data tier's; the application's scheduled jobs are released with it.
    const cronJobs = (app: string) => (groups.find((g) => g.app === app)?.objects ?? []).filter((o) => o.kind === 'CronJob')
      .map((o) => o.metadata.labels['app.kubernetes.io/component']);
    expect(new Set(cronJobs(`${env.app.name}-${env.name}`))).toEqual(new Set(['scheduled-job']));
    expect(new Set(cronJobs(`${env.app.name}-${env.name}-data`))).toEqual(new Set(['backup']));
  });
});
