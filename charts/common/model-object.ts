/**
 * The bridge from kubernetes-models to cdk8s: objects are written with the typed classes of
 * kubernetes-models and its CRD packages (full API types, current API versions, no defaults added
 * behind our back) and handed to cdk8s as plain ApiObjects, so Charts, ids and synthesis stay cdk8s.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

/** Any kubernetes-models object: it knows its apiVersion and kind and serializes itself. */
export interface KubernetesModel {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string };
  toJSON(): unknown;
}

export class ModelObject extends ApiObject {
  constructor(scope: Construct, id: string, model: KubernetesModel) {
    const { apiVersion, kind, metadata, ...rest } = model.toJSON() as {
      apiVersion: string; kind: string; metadata?: Record<string, unknown>;
    };
    if (!metadata?.name) {
      // cdk8s would invent a hashed name; every object here has a stable, human one.
      throw new Error(`${kind} ${id} has no metadata.name`);
    }
    super(scope, id, { apiVersion, kind, metadata, ...rest });
  }
}
