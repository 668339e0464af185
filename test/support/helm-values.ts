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

/**
 * Subcharts whose values we set, each under its key of the parent's values: Helm gives a subchart
 * its own values.yaml with the parent's values for it coalesced over (Helm's chartutil
 * CoalesceValues). Their values files are kept in test/fixtures/charts/ (SOURCE says from where).
 */
const SUBCHARTS: Partial<Record<PlatformReleaseName, Readonly<Record<string, string>>>> = {
  // kube-prometheus-stack 88.5.3's Chart.yaml: grafana 12.11.1 (test/grafana-datasources.test.ts checks it).
  'kube-prometheus-stack': { grafana: 'grafana-12.11.1' },
};
const FIXTURE_CHARTS = join(repositoryRoot(), 'test', 'fixtures', 'charts');

/** The pinned chart's values.yaml, with its subcharts' own defaults under their keys. */
export function chartDefaults(release: PlatformReleaseName): Json {
  const { chart, version } = PLATFORM_RELEASES[release];
  const values = parse(readFileSync(join(CHARTS_DIR, `${chart}-${version}`, 'values.yaml'), 'utf8')) as Json;
  for (const [key, dir] of Object.entries(SUBCHARTS[release] ?? {})) {
    values[key] = coalesce(parse(readFileSync(join(FIXTURE_CHARTS, dir, 'values.yaml'), 'utf8')), values[key]);
  }
  return values;
}
