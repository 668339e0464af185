import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { appMetadata, type Component } from './labels';
import { ModelObject } from './model-object';

/** Where External Secrets reads from, and how often. */
export type SecretStoreConfig = NonNullable<Environment['externalSecrets']>;

export interface SyncedSecretProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The (Cluster)SecretStore and the refresh interval. */
  readonly store: SecretStoreConfig;
  /** Name of the Secret External Secrets creates (and of the ExternalSecret). */
  readonly name: string;
  /** `app.kubernetes.io/name` of the consumer, for labels. */
  readonly labelName: string;
  readonly component: Component;
  /** Entry in the secret manager (full key). */
  readonly remoteKey: string;
  /** Secret keys to create, each from the entry's property of the same name. */
  readonly properties: readonly string[];
  /**
   * Keys whose values are not secret and come from the configuration (an object storage region),
   * added to the same Secret by External Secrets' template, for consumers that read everything
   * from one Secret.
   * @default none
   */
  readonly literals?: Readonly<Record<string, string>>;
}

/**
 * A Secret whose values live only in the secret manager: External Secrets creates and owns it and
 * re-reads the entry every refreshInterval, so a rotated value reaches the cluster without a commit.
 */
/**
 * What External Secrets' CRDs up to 2.8 default in every `data[].remoteRef` (2.9's schema no longer
 * does, its controller reads absent as the same): written out, so that an operator on either side of
 * that change stores the object Argo CD compares with, and a list item never differs forever.
 */
export const REMOTE_REF_DEFAULTS = { conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' } as const;

export class SyncedSecret extends Construct {
  constructor(scope: Construct, id: string, props: SyncedSecretProps) {
    super(scope, id);
    const { store } = props;
    new ModelObject(this, 'ExternalSecret', new ExternalSecret({
      metadata: appMetadata(props.identity, { name: props.name, labelName: props.labelName, component: props.component }),
      spec: {
        refreshInterval: store.refreshInterval,
        secretStoreRef: { name: store.store, kind: store.storeKind },
        target: {
          name: props.name,
          creationPolicy: 'Owner',
          // A deleted ExternalSecret must not take the credentials of a running database with it.
          deletionPolicy: 'Retain',
          // Merge: the template adds its keys to those of `data` instead of replacing them
          // (engineVersion v2 is the CRD's default and only value, written out).
          ...(props.literals ? { template: { engineVersion: 'v2', mergePolicy: 'Merge', data: { ...props.literals } } } : {}),
        },
        data: props.properties.map((p) => ({ secretKey: p, remoteRef: { key: props.remoteKey, property: p, ...REMOTE_REF_DEFAULTS } })),
      },
    }));
  }
}
