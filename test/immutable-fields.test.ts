/**
 * pipeline/immutable-fields.ts: changes the API server refuses on existing objects are found on the
 * real output (each rule, by changing the configuration as a user would), nothing else is, and
 * every refusal points at a section of the runbook that exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENVOY_GATEWAY_CONTROLLER } from '../charts/gitops/gateway-class';
import { IMMUTABLE_RUNBOOK, immutableChanges, refusalMessage, refusedChanges } from '../pipeline/immutable-fields';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { shop, variant } from './support/fixtures';
import { REPO } from './support/repository-copy';

const objects = (overrides: object = {}, edit?: (c: any) => void) => synthObjects(variant(shop, overrides, edit)).map((o) => o.object);
const base = objects();

/** The refused changes from the base output to one with these overrides. */
const refused = (overrides: object, edit?: (c: any) => void, allowed: ReadonlySet<string> = new Set()) =>
  refusedChanges('test', base, objects(overrides, edit), allowed).map((c) => `${c.object} ${c.field}`);

const find = (list: readonly K8sObject[], kind: string) => structuredClone(list.find((o) => o.kind === kind)!);

test('the same output again changes nothing', () => {
  expect(refusedChanges('test', base, objects(), new Set())).toEqual([]);
});

test('what may change does not count: replicas, resources, a larger volume', () => {
  expect(refused({
    services: { api: { replicas: 3, resources: { requests: { cpu: '300m' } } } },
    data: { redis: { resources: { requests: { cpu: '50m' } } }, uploads: { storage: { size: '20Gi' } }, postgres: { storage: { size: '50Gi' } } },
  })).toEqual([]);
});

test('a Redis volume of another size or class changes the claim templates', () => {
  expect(refused({ data: { redis: { storage: { size: '9Gi' } } } })).toEqual(['test/StatefulSet/shop-redis spec.volumeClaimTemplates']);
  expect(refused({ data: { redis: { storage: { storageClass: 'other' } } } })).toEqual(['test/StatefulSet/shop-redis spec.volumeClaimTemplates']);
});

test('uploads: another class is refused, a smaller volume is refused', () => {
  expect(refused({ data: { uploads: { storage: { storageClass: 'other' } } } })).toEqual(['test/PersistentVolumeClaim/shop-uploads spec.storageClassName']);
  expect(refused({ data: { uploads: { storage: { size: '1Gi' } } } })).toEqual(['test/PersistentVolumeClaim/shop-uploads spec.resources.requests.storage']);
});

test('PostgreSQL: smaller data or WAL volumes are refused', () => {
  expect(refused({ data: { postgres: { storage: { size: '1Gi' }, walStorage: { size: '512Mi' } } } }).sort()).toEqual([
    'test/Cluster/shop-db spec.storage.size', 'test/Cluster/shop-db spec.walStorage.size',
  ]);
});

test('an allowed object passes, and only that one', () => {
  const overrides = { data: { uploads: { storage: { size: '1Gi' } }, redis: { storage: { size: '9Gi' } } } };
  expect(refused(overrides, undefined, new Set(['test/PersistentVolumeClaim/shop-uploads']))).toEqual(['test/StatefulSet/shop-redis spec.volumeClaimTemplates']);
  expect(refused(overrides, undefined, new Set(['prod/PersistentVolumeClaim/shop-uploads', 'test/StatefulSet/shop-redis']))).toEqual([
    'test/PersistentVolumeClaim/shop-uploads spec.resources.requests.storage',
  ]);
});

test('a new or removed object is not a changed field', () => {
  expect(refusedChanges('test', [], base, new Set())).toEqual([]);
  expect(refusedChanges('test', base, [], new Set())).toEqual([]);
});

describe('each rule, on one field', () => {
  const sts = find(base, 'StatefulSet');
  test.each([
    ['selector', (s: K8sObject) => { s.spec.selector.matchLabels.extra = 'x'; }],
    ['serviceName', (s: K8sObject) => { s.spec.serviceName = 'other'; }],
    ['podManagementPolicy', (s: K8sObject) => { s.spec.podManagementPolicy = 'OrderedReady'; }],
    ['volumeClaimTemplates', (s: K8sObject) => { s.spec.volumeClaimTemplates[0].metadata.name = 'other'; }],
  ])('StatefulSet spec.%s', (field, change) => {
    const after = structuredClone(sts);
    change(after);
    expect(immutableChanges(sts, after).map((c) => c.field)).toEqual([`spec.${field}`]);
  });

  test('StatefulSet: what the API server fills in is not a change, the fields it lets change are not either', () => {
    const written = structuredClone(sts);
    delete written.spec.podManagementPolicy;
    const stored = structuredClone(written);
    stored.spec.podManagementPolicy = 'OrderedReady';
    for (const t of stored.spec.volumeClaimTemplates) Object.assign(t, { status: { phase: 'Pending' } }, { spec: { volumeMode: 'Filesystem', ...t.spec } });
    for (const t of written.spec.volumeClaimTemplates) {
      delete t.apiVersion;
      delete t.kind;
    }
    expect(immutableChanges(written, stored)).toEqual([]);
    expect(immutableChanges(stored, written)).toEqual([]);
    const mutable = structuredClone(sts);
    Object.assign(mutable.spec, { replicas: 5, minReadySeconds: 3, revisionHistoryLimit: 2, updateStrategy: { type: 'OnDelete' } });
    mutable.spec.template.spec.containers[0].image = 'other';
    expect(immutableChanges(sts, mutable)).toEqual([]);
  });

  test('Deployment selector, not its template', () => {
    const d = find(base, 'Deployment');
    const after = structuredClone(d);
    after.spec.template.metadata.labels.extra = 'x';
    expect(immutableChanges(d, after)).toEqual([]);
    after.spec.selector.matchLabels.extra = 'x';
    expect(immutableChanges(d, after).map((c) => c.field)).toEqual(['spec.selector']);
  });

  test('Pooler and ScheduledBackup: the cluster they belong to', () => {
    for (const kind of ['Pooler', 'ScheduledBackup']) {
      const o = find(base, kind);
      const after = structuredClone(o);
      after.spec.cluster = { name: 'other' };
      expect([kind, immutableChanges(o, after).map((c) => c.field)]).toEqual([kind, ['spec.cluster']]);
    }
  });

  test('a Cluster whose WAL volume goes away', () => {
    const c = find(base, 'Cluster');
    const after = structuredClone(c);
    delete after.spec.walStorage;
    expect(immutableChanges(c, after).map((x) => x.field)).toEqual(['spec.walStorage']);
  });

  test('a PriorityClass\'s value and preemption policy (absent is PreemptLowerPriority)', () => {
    const p = find(base, 'PriorityClass');
    const after = structuredClone(p);
    after.value = 1;
    after.preemptionPolicy = 'Never';
    const before = p.preemptionPolicy === 'Never' ? { ...p, preemptionPolicy: 'PreemptLowerPriority' } : p;
    expect(immutableChanges(before, after).map((c) => c.field)).toEqual(['value', 'preemptionPolicy']);
    const defaulted = structuredClone(before);
    delete defaulted.preemptionPolicy;
    expect(immutableChanges(defaulted, { ...defaulted, preemptionPolicy: 'PreemptLowerPriority' })).toEqual([]);
  });

  test('a PVC\'s access modes', () => {
    const p = find(base, 'PersistentVolumeClaim');
    const after = structuredClone(p);
    after.spec.accessModes = ['ReadWriteOnce'];
    expect(immutableChanges(p, after).map((x) => x.field)).toEqual(['spec.accessModes']);
  });

  test('objects of the same name and another kind or namespace are other objects', () => {
    const d = find(base, 'Deployment');
    const elsewhere = structuredClone(d);
    elsewhere.metadata.namespace = 'other';
    elsewhere.spec.selector.matchLabels.extra = 'x';
    expect(refusedChanges('test', [d], [elsewhere], new Set())).toEqual([]);
  });
});

test('sizes compare by bytes across suffixes; a committed value that is no quantity is not judged', () => {
  const p = find(base, 'PersistentVolumeClaim');
  const sized = (storage: string) => ({ ...p, spec: { ...p.spec, resources: { requests: { storage } } } });
  expect(immutableChanges(sized('1Gi'), sized('1024Mi'))).toEqual([]);
  expect(immutableChanges(sized('1.5G'), sized('1.5Gi'))).toEqual([]);
  expect(immutableChanges(sized('2G'), sized('1.5Gi')).map((c) => c.field)).toEqual(['spec.resources.requests.storage']);
  expect(immutableChanges(sized('1536Mi'), sized('1.5Gi'))).toEqual([]);
  expect(immutableChanges(sized('1537Mi'), sized('1.5Gi')).map((c) => c.change)).toEqual(['shrinks from 1537Mi to 1.5Gi']);
  expect(immutableChanges(sized('lots'), sized('1Gi'))).toEqual([]);
});

const gatewayClass = (controllerName: string): K8sObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'envoy-gateway' }, spec: { controllerName },
});

test('every refusal names the object, the field, the change, a runbook section that exists and the flag that lets it through', () => {
  const runbook = readFileSync(join(REPO, IMMUTABLE_RUNBOOK), 'utf8');
  const anchors = new Set([...runbook.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
  const all = [
    ...refusedChanges('test', base, objects({ data: { redis: { storage: { size: '9Gi' } }, uploads: { storage: { size: '1Gi', storageClass: 'x' } } } }), new Set()),
    ...['Pooler', 'ScheduledBackup', 'Deployment', 'Cluster', 'PriorityClass'].flatMap((kind) => {
      const o = find(base, kind);
      const after = structuredClone(o);
      if (kind === 'Deployment') after.spec.selector = { matchLabels: { x: 'y' } };
      else if (kind === 'Cluster') delete after.spec.walStorage;
      else if (kind === 'PriorityClass') after.value += 1;
      else after.spec.cluster = { name: 'other' };
      return refusedChanges('test', [o], [after], new Set());
    }),
    // An argocd/ object (the root Application syncs it), with a transition rule of Gateway API's CRD.
    ...refusedChanges('test', [gatewayClass(ENVOY_GATEWAY_CONTROLLER)], [gatewayClass('example.com/other')], new Set()),
  ];
  expect(new Set(all.map((c) => c.section))).toEqual(anchors);
  const uploads = all.find((c) => c.field === 'spec.resources.requests.storage')!;
  expect(refusalMessage(uploads)).toBe('test/PersistentVolumeClaim/shop-uploads: spec.resources.requests.storage shrinks from 3Gi to 1Gi, '
    + 'which Kubernetes refuses on an existing object (the Argo CD sync would fail); '
    + 'follow runbooks/change-immutable-field.md#volume-shrink, then run with --allow-immutable-change test/PersistentVolumeClaim/shop-uploads');
});
