/** The blackbox exporter's configuration as a prober's pod reads it, from an environment's synthesized objects. */
import { UPTIME_PROBERS } from '../../environments/model/names';
import type { K8sObject } from '../../pipeline/k8s-object';
import { only } from './synth-construct';

/** The file the prober's `--config.file` names, from the ConfigMap volume mounted at its directory. */
export function mountedBlackboxConfig(objects: readonly K8sObject[], prober: string = UPTIME_PROBERS[0]): string {
  const pod = only(objects, 'Deployment', prober).spec.template.spec;
  const container = pod.containers[0];
  const file = (container.args as string[]).find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length);
  if (!file) throw new Error(`${prober} names no --config.file`);
  const mount = (container.volumeMounts as K8sObject[]).find((m) => file.startsWith(`${m.mountPath}/`));
  const volume = mount && (pod.volumes as K8sObject[]).find((v) => v.name === mount.name);
  if (!mount || !volume?.configMap) throw new Error(`no ConfigMap is mounted where ${prober} reads ${file}`);
  const text = only(objects, 'ConfigMap', volume.configMap.name).data?.[file.slice(mount.mountPath.length + 1)];
  if (typeof text !== 'string') throw new Error(`the ConfigMap ${volume.configMap.name} has no ${file}`);
  return text;
}
