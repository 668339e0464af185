/**
 * A service's database migration: a Job that Argo CD runs as a Sync hook in its own wave, after
 * the namespace, the flows, the secrets and the ServiceAccounts (earlier waves) and before the
 * services' new pods (a later one), so the schema is migrated before the release rolls out, and a
 * failed migration fails the sync with the old pods still serving (docs/migrations.md). Not a
 * PreSync hook: that runs before every object of the sync, so on a new environment it would wait
 * for a namespace, a PriorityClass and a database nothing could create, and a migration added to
 * a running environment would meet the namespace's default deny before its own NetworkPolicy. It reaches the PostgreSQL primary and
 * nothing else (its NetworkPolicy comes from the model's flows, with every other:
 * charts/security/network-policies.ts).
 */
import { Construct } from 'constructs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IContainer, IEnvVar, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { AppIdentity } from '../../environments/model/identity';
import type { InjectedVariable } from '../../environments/model/injected-env';
import { scratchVolumeName } from '../../environments/model/names';
import type { ImageConfig, ServiceConfig } from '../../environments/schema';
import { batchPodBasics, IGNORE_DISRUPTION } from '../common/batch-pod';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import { containerEnv, imageReference, orderEnv, secretAliases } from './web-service';

export interface MigrationJobProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Name of the Job, its ServiceAccount and its pods' `app.kubernetes.io/name` (environments/model/names.ts, migrationJobName). */
  readonly name: string;
  /** The image to run: the migration's own, or the service's. */
  readonly image: ImageConfig;
  /** Replaces the image's entrypoint. @default the image's entrypoint */
  readonly command?: readonly string[];
  /** Arguments to the command. */
  readonly args: readonly string[];
  /** The migration's own plain variables; may refer to the injected ones with `$(NAME)`. */
  readonly env: Readonly<Record<string, string>>;
  /** The database's connection settings, the host being the primary's Service (environments/model/injected-env.ts, migrationEnv). */
  readonly injectedEnv: readonly InjectedVariable[];
  /** Requests and limits of the container. */
  readonly resources: ServiceConfig['resources'];
  /** UID and GID it runs as. */
  readonly runAsUser: number;
  /** Paths that must be writable (the root filesystem is read-only): one emptyDir each. */
  readonly writablePaths: readonly string[];
  /** The Job's activeDeadlineSeconds: how long the migration may take, retries included. */
  readonly timeoutSeconds: number;
  /** Pods tried again after a failed one. */
  readonly backoffLimit: number;
  /** PriorityClass of the pod. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

/**
 * Annotations of a Sync hook that Argo CD deletes only when it creates the next one: the last
 * run's Job and its pod (with its logs) stay until the next sync, for whoever reads why it failed.
 * With a Job name (not generateName), Argo CD needs BeforeHookCreation to run it again at all.
 * Its wave is the Job kind's (charts/common/sync-waves.ts).
 */
export const MIGRATION_HOOK: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/hook': 'Sync',
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
};

/** The container's name, for `kubectl logs job/<service>-migrate -c migrate`. */
export const MIGRATION_CONTAINER = 'migrate';

export class MigrationJob extends Construct {
  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    const { identity, name } = props;
    const metadata = appMetadata(identity, { name, component: 'migration' });
    const labels = recommendedLabels(identity, name, 'migration');

    // A plain object, in the ServiceAccounts' wave, before the hook's.
    new ModelObject(this, 'ServiceAccount', new ServiceAccount({
      metadata,
      // A migration talks to PostgreSQL only; a mounted token would only be something to steal.
      automountServiceAccountToken: false,
    }));

    const volumes: IVolume[] = props.writablePaths.map((path) => ({ name: scratchVolumeName(path), emptyDir: { sizeLimit: '256Mi' } }));
    const mounts: IVolumeMount[] = props.writablePaths.map((path) => ({ name: scratchVolumeName(path), mountPath: path }));
    // Injected settings first, so the migration's own variables can refer to them with $(VAR).
    const env: IEnvVar[] = [...containerEnv(props.injectedEnv), ...secretAliases(orderEnv(props.env), props.injectedEnv)];

    const container: IContainer = {
      name: MIGRATION_CONTAINER,
      image: imageReference(props.image),
      imagePullPolicy: 'IfNotPresent',
      ...(props.command ? { command: [...props.command] } : {}),
      ...(props.args.length > 0 ? { args: [...props.args] } : {}),
      env,
      resources: { requests: { ...props.resources.requests }, limits: { ...props.resources.limits } },
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: mounts,
      // The migration tool's last words, in the Job's status when it fails.
      ...TERMINATION_MESSAGE,
    };

    new ModelObject(this, 'Job', new Job({
      metadata: { ...metadata, annotations: { ...MIGRATION_HOOK } },
      spec: {
        backoffLimit: props.backoffLimit,
        activeDeadlineSeconds: props.timeoutSeconds,
        // No ttlSecondsAfterFinished: BeforeHookCreation removes the Job at the next sync, and a
        // Job deleted behind Argo CD's back while it waits on the hook leaves the sync stuck
        // (argoproj/argo-cd#21055); the failed run's pod is the evidence.
        podFailurePolicy: { rules: [IGNORE_DISRUPTION] },
        template: {
          metadata: { labels },
          spec: {
            ...batchPodBasics(name, props.priorityClassName),
            securityContext: restrictedPodSecurityContext(props.runAsUser),
            terminationGracePeriodSeconds: 30,
            containers: [container],
            volumes,
          },
        },
      },
    }));
  }
}
