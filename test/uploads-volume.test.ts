/** UploadsVolume and its use: one ReadWriteMany claim, mounted by the services that use uploads. */
import { UploadsVolume } from '../charts/data/uploads-volume';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { boxDesignerPostgresOnly, shop, variant, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

test('ReadWriteMany, storage class and size from config, never deleted by Argo CD', () => {
  const model = variantModel(shop, { data: { uploads: { storage: { size: '42Gi', storageClass: 'nfs-keep' } } } });
  const pvc = only(synthConstruct((s) => new UploadsVolume(s, 'uploads', {
    identity: model.identity, name: model.data.uploads!.claim, storage: model.env.data.uploads!.storage,
  })), 'PersistentVolumeClaim');
  expect(pvc.metadata).toMatchObject({ name: 'shop-uploads', namespace: 'shop-test' });
  expect(pvc.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'uploads', 'app.kubernetes.io/component': 'storage' });
  expect(pvc.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], storageClassName: 'nfs-keep', resources: { requests: { storage: '42Gi' } } });
});

test('the api (uses uploads) mounts it at the configured path and is told where; web does not', () => {
  const objects = synthObjects(variant(shop, { data: { uploads: { mountPath: '/var/lib/shop/files' } } })).map((o) => o.object);
  const deployment = (name: string) => only(objects, 'Deployment', name);
  expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe('shop-uploads');
  const api = deployment('api').spec.template.spec;
  expect(api.volumes).toContainEqual({ name: 'uploads', persistentVolumeClaim: { claimName: 'shop-uploads' } });
  expect(api.containers[0].volumeMounts).toContainEqual({ name: 'uploads', mountPath: '/var/lib/shop/files' });
  expect(api.containers[0].env).toContainEqual({ name: 'UPLOADS_DIR', value: '/var/lib/shop/files' });
  const web = deployment('web').spec.template.spec;
  expect(web.volumes.some((v: K8sObject) => v.name === 'uploads')).toBe(false);
  expect(web.containers[0].env.some((e: K8sObject) => e.name === 'UPLOADS_DIR')).toBe(false);
});

test('without data.uploads there is no claim and no service mounts one', () => {
  const objects = synthObjects(boxDesignerPostgresOnly()).map((o) => o.object);
  expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
  const api = only(objects, 'Deployment', 'api').spec.template.spec;
  expect(api.volumes.some((v: K8sObject) => v.persistentVolumeClaim)).toBe(false);
  expect(api.containers[0].env.some((e: K8sObject) => e.name === 'UPLOADS_DIR')).toBe(false);
});
