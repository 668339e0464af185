/** Synthesizes one construct in a bare chart, for construct tests; nothing is written. */
import { Chart, Testing } from 'cdk8s';
import type { Construct } from 'constructs';
import type { K8sObject } from '../../pipeline/k8s-object';

export function synthConstruct(build: (scope: Construct) => void): K8sObject[] {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  build(chart);
  return Testing.synth(chart) as K8sObject[];
}

/** The one object of a kind (and name, when given); fails the test when there is not exactly one. */
export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}
