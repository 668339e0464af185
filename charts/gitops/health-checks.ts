/**
 * Entries of Argo CD's `argocd-cm` that the sync waves rely on: the Lua health checks of
 * charts/gitops/health/ and the resource tracking method.
 *
 * Argo CD fails a sync when an object of the running wave turns Degraded and waits while it is
 * Progressing (gitops-engine pkg/sync/sync_context.go). The checks below make the transient
 * states of what our early waves hold read Progressing, and give the root Application's waves a
 * health for the child Applications, which Argo CD 3.x does not have built in.
 */
import { readScript } from '../common/shipped-files';

/** Where the scripts are, relative to the repository root: one `<group>_<kind>.lua` per check. */
export const HEALTH_FOLDER = 'charts/gitops/health';

export interface HealthCheck {
  readonly group: string;
  readonly kind: string;
}

/** The kinds this project judges itself, each with the reason in its script's header. */
export const HEALTH_CHECKS: readonly HealthCheck[] = [
  // Not built in since Argo CD 1.8: without it the root Application's waves do not wait.
  { group: 'argoproj.io', kind: 'Application' },
  // The built-ins call transient states Degraded (see each script's header).
  { group: 'cert-manager.io', kind: 'Certificate' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'postgresql.cnpg.io', kind: 'Cluster' },
];

/** The script's file name: Argo CD's `<group>_<kind>` form, which a key's suffix also uses. */
export function healthScriptName(check: HealthCheck): string {
  return `${check.group}_${check.kind}.lua`;
}

/**
 * The argocd-cm key of a check. Argo CD splits `resource.customizations.<type>.<group>_<kind>`
 * at the first three dots and the one underscore, so dotted groups are fine
 * (util/settings/settings.go, appendResourceOverridesFromSplitKeys and convertToOverrideKey;
 * docs/operator-manual/health.md, "Way 1"). No `useOpenLibs` key: the scripts need only the
 * base and table libraries that Argo CD opens for argocd-cm scripts (util/lua/lua.go).
 */
export function healthKey(check: HealthCheck): string {
  return `resource.customizations.health.${check.group}_${check.kind}`;
}

/** The argocd-cm entries of every check, the scripts read from their files, in file name order. */
export function healthCustomizations(root?: string): Record<string, string> {
  const names = HEALTH_CHECKS.map((check) => ({ check, name: healthScriptName(check) }));
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.fromEntries(names.map(({ check, name }) => [healthKey(check), readScript(HEALTH_FOLDER, name, root)]));
}

/**
 * Track resources by annotation, not by label. Label tracking reads `app.kubernetes.io/instance`,
 * which every object of ours already carries as a recommended label with its own meaning, and
 * Argo CD would take it over. Annotation has been Argo CD's default since 3.0, written down so a
 * chart default or a hand edit cannot change it silently. Key: `application.resourceTrackingMethod`
 * (docs/user-guide/resource_tracking.md, docs/operator-manual/argocd-cm.yaml;
 * settingsResourceTrackingMethodKey in util/settings/settings.go).
 */
export const RESOURCE_TRACKING = { 'application.resourceTrackingMethod': 'annotation' } as const;
