/**
 * The bucket's credentials for Loki, in Loki's namespace: the same entry of the secret manager the
 * backups read (`<externalSecrets.keyPrefix>/object-storage`), synced by External Secrets, which
 * re-reads it every refreshInterval. Loki takes them as environment variables
 * (charts/gitops/values/loki.ts, LOKI_CREDENTIAL_ENV), so the Secret must exist before Loki's pods
 * start: its root wave (ROOT_WAVES.lokiStorage) is after External Secrets and before Loki. Until
 * the secret store, made by hand once External Secrets runs, exists, the ExternalSecret is Degraded
 * and the root's sync waits there: Loki would start without a way to store what it receives.
 */
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { OBJECT_STORAGE_KEYS } from '../../environments/model/names';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { REMOTE_REF_DEFAULTS, type SecretStoreConfig } from '../common/synced-secret';
import { LOKI_STORAGE_SECRET } from './values/loki';

export interface LokiStorageSecretProps {
  readonly identity: AppIdentity;
  /** Loki's namespace. */
  readonly namespace: string;
  readonly store: SecretStoreConfig;
  /** The object-storage entry of the secret manager (full key). */
  readonly remoteKey: string;
  readonly wave: number;
}

export class LokiStorageSecret extends Construct {
  constructor(scope: Construct, id: string, props: LokiStorageSecretProps) {
    super(scope, id);
    const { store } = props;
    new ModelObject(this, 'ExternalSecret', new ExternalSecret({
      metadata: {
        name: LOKI_STORAGE_SECRET,
        namespace: props.namespace,
        labels: recommendedLabels(props.identity, LOKI_STORAGE_SECRET, 'storage'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      spec: {
        refreshInterval: store.refreshInterval,
        secretStoreRef: { name: store.store, kind: store.storeKind },
        target: { name: LOKI_STORAGE_SECRET, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: Object.values(OBJECT_STORAGE_KEYS).map((key) => ({
          secretKey: key,
          remoteRef: { key: props.remoteKey, property: key, ...REMOTE_REF_DEFAULTS },
        })),
      },
    }));
  }
}
