/**
 * The gate's problems for an environment whose charts render one change: the real charts and the
 * real gate (synthesizeEnvironment), with `change` applied to the objects one chart class renders.
 */
import type { Chart } from 'cdk8s';
import { buildModel } from '../../environments/model/model';
import type { Environment } from '../../environments/schema';
import type { K8sObject } from '../../pipeline/k8s-object';
import { argocdObjects, modelObjects, synthesizeEnvironment } from '../../pipeline/synth';

export async function problemsWith(env: Environment, chart: { prototype: Chart }, change: (objects: K8sObject[]) => void): Promise<string[]> {
  // The chart's own toJson, shadowed on this chart class only while the environment is synthesized.
  const toJson = chart.prototype.toJson;
  chart.prototype.toJson = function (this: Chart) {
    const objects = toJson.call(this) as K8sObject[];
    change(objects);
    return objects;
  };
  try {
    return (await synthesizeEnvironment(env)).problems;
  } finally {
    delete (chart.prototype as { toJson?: unknown }).toJson;
  }
}

/** Every object the gate judges for an environment: its dist/ objects and its cluster's argocd/ ones. */
export function everyObject(env: Environment): K8sObject[] {
  const model = buildModel(env);
  const objects = modelObjects(model);
  return [...objects.map((o) => o.object), ...argocdObjects(model, objects)];
}
