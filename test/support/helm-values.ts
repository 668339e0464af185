/**
 * A platform chart's values as Helm renders the chart with ours: the chart's own values.yaml (the
 * copy pinned in ../shared/charts/<chart>-<version>/) with the Application's values coalesced over it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../../charts/common/shipped-files';
import { PLATFORM_RELEASES, type PlatformReleaseName } from '../../charts/gitops/platform-releases';

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Where the upstream charts' values files are. */
export const CHARTS_DIR = join(process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared'), 'charts');

/** Helm's coalescing of user values over a chart's defaults: maps merge, anything else replaces, null deletes. */
export function coalesce(defaults: unknown, values: unknown): unknown {
  if (!isMap(defaults) || !isMap(values)) return values;
  const out: Json = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete out[key];
    else out[key] = coalesce(defaults[key], value);
  }
  return out;
}

/** The pinned chart's own values.yaml. */
export function chartDefaults(release: PlatformReleaseName): Json {
  const { chart, version } = PLATFORM_RELEASES[release];
  return parse(readFileSync(join(CHARTS_DIR, `${chart}-${version}`, 'values.yaml'), 'utf8')) as Json;
}
