/** UploadsVolume and its use: one ReadWriteMany claim, mounted by the services that use uploads. */
import { UploadsVolume } from '../charts/data/uploads-volume';
import { synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { only, synthConstruct } from './support/synth-construct';

const [, env] = resolveEnvironments(environments, process.cwd());

test('ReadWriteMany, storage class and size from config, never deleted by Argo CD', () => {
  const pvc = only(synthConstruct((s) => new UploadsVolume(s, 'uploads', { env })), 'PersistentVolumeClaim');
  expect(pvc.metadata.name).toBe('student-portal-uploads');
  expect(pvc.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  expect(pvc.spec).toEqual({ accessModes: ['ReadWriteMany'], storageClassName: 'nfs-retain', resources: { requests: { storage: '200Gi' } } });
});

test('the api (uses uploads) mounts it at the configured path and is told where; web does not', () => {
  const objects = synthObjects(env).map((o) => o.object);
  const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
  const api = deployment('api').spec.template.spec;
  expect(api.volumes).toContainEqual({ name: 'uploads', persistentVolumeClaim: { claimName: 'student-portal-uploads' } });
  expect(api.containers[0].volumeMounts).toContainEqual({ name: 'uploads', mountPath: '/var/lib/portal/uploads' });
  expect(api.containers[0].env).toContainEqual({ name: 'UPLOADS_DIR', value: '/var/lib/portal/uploads' });
  const web = deployment('web').spec.template.spec;
  expect(web.volumes.some((v: { name: string }) => v.name === 'uploads')).toBe(false);
});
