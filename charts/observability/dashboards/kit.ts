/**
 * What every dashboard here is made of, on the builders of the Grafana Foundation SDK: one
 * Prometheus data source chosen by a dashboard variable (no data source UID is written anywhere,
 * so the dashboards work with whatever Prometheus the Grafana they land in calls its own), panels
 * of a few kinds with the same legend, tooltip and threshold conventions, and the finishing that
 * keeps the JSON stable between two syntheses: panel ids and query refIds by position, no
 * timestamps.
 */
import { createHash } from 'node:crypto';
import type { Builder, Dataquery as AnyDataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Dashboard,
  type Panel,
  type RowPanel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, type Dataquery } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TextPanelBuilder, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The dashboard variable that holds the Prometheus data source; every panel and query uses it. */
export const DATASOURCE_VARIABLE = 'datasource';
const DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

/** Grafana refuses a dashboard UID longer than this. */
export const MAX_UID_LENGTH = 40;

/** One PromQL query of a panel and how its series are named in the legend. */
export interface Query {
  readonly expr: string;
  /** Grafana's legend format: `{{label}}` is replaced by the series' label. */
  readonly legend: string;
}

/**
 * Colours by value: `base` below the first step, then each step's colour from its value up.
 * On a graph the steps are drawn as dashed lines.
 */
export interface Thresholds {
  readonly base: string;
  readonly steps: readonly (readonly [value: number, color: string])[];
}

export interface PanelOptions {
  readonly title: string;
  /** What the panel shows and how to read it: Grafana shows it on the panel's (i) tooltip. */
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grafana's unit id (`reqps`, `percentunit`, `ms`, `s`, `bytes`, `short` …). */
  readonly unit?: string;
  readonly thresholds?: Thresholds;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  /** Width in grid columns, of 24. */
  readonly width?: number;
  readonly height?: number;
  /**
   * The smallest step between points (`5m`): for queries that read days of samples at each step,
   * so a long time range does not make Prometheus read them thousands of times.
   */
  readonly minInterval?: string;
  /** Graphs: draw every point, for series of few, far apart values (one per backup run). */
  readonly points?: boolean;
}

function query(q: Query, instant: boolean): DataqueryBuilder {
  const b = new DataqueryBuilder().expr(q.expr).legendFormat(q.legend).datasource(DATASOURCE);
  return instant ? b.instant() : b.range();
}

function thresholdsConfig(t: Thresholds): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute)
    .steps([{ value: null, color: t.base }, ...t.steps.map(([value, color]) => ({ value, color }))]);
}

/** A graph over the dashboard's time range. */
export function timeseries(o: PanelOptions): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width ?? 12)
    .height(o.height ?? 8)
    .targets(o.queries.map((q) => query(q, false)))
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(o.points ? VisibilityMode.Always : VisibilityMode.Never);
  if (o.unit !== undefined) panel.unit(o.unit);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  if (o.minInterval !== undefined) panel.interval(o.minInterval);
  if (o.thresholds) {
    panel.thresholds(thresholdsConfig(o.thresholds)).thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  }
  return panel;
}

/** One current value per series (instant queries), coloured by its thresholds. */
export function stat(o: PanelOptions): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width ?? 6)
    .height(o.height ?? 4)
    .targets(o.queries.map((q) => query(q, true)))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(BigValueGraphMode.None)
    .colorMode(BigValueColorMode.Value);
  if (o.unit !== undefined) panel.unit(o.unit);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  if (o.thresholds) panel.thresholds(thresholdsConfig(o.thresholds));
  return panel;
}

/** Words on the dashboard (Markdown): what a reader must know that no query can show. */
export function note(title: string, markdown: string, width = 24, height = 3): TextPanelBuilder {
  return new TextPanelBuilder().title(title).mode(TextMode.Markdown).content(markdown).span(width).height(height);
}

/** A titled row of panels. */
export interface Section {
  readonly title: string;
  readonly panels: readonly Builder<Panel>[];
}

/** Whose dashboard it is: the application in one environment. */
export interface DashboardContext {
  readonly app: string;
  readonly environment: string;
  /** `<app>-<environment>` (`app.kubernetes.io/instance`). */
  readonly instance: string;
}

export interface DashboardMeta {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
}

/**
 * Title, UID and tags of one kind of dashboard of the application in an environment. The title
 * names both: one Grafana may show several environments, and Grafana wants titles unique in a folder.
 */
export function dashboardMeta(context: DashboardContext, kind: string, title: string, description: string): DashboardMeta {
  return {
    uid: dashboardUid(context.instance, kind),
    title: `${context.app} ${context.environment}: ${title}`,
    description,
    tags: ['shipshape', context.app, context.environment, kind],
  };
}

/**
 * Every dashboard's settings: its identity from `meta`, read-only, the last six hours, refreshed
 * every minute, a shared crosshair.
 */
export function dashboardBuilder(meta: DashboardMeta): DashboardBuilder {
  return new DashboardBuilder(meta.title)
    .uid(meta.uid)
    .description(meta.description)
    .tags([...meta.tags])
    .readonly()
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair);
}

/**
 * The dashboard: the data source variable, then each section as a row and its panels, laid out
 * left to right by the SDK. Read-only in Grafana (the sidecar's provider refuses UI changes, and a
 * change made there would be lost at the next sync: the code is the dashboard). Panel ids and
 * refIds are numbered by position, so the same code gives the same JSON.
 */
export function buildDashboard(meta: DashboardMeta, sections: readonly Section[]): Dashboard {
  const builder = dashboardBuilder(meta)
    .withVariable(new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type('prometheus'));
  for (const section of sections) {
    builder.withRow(new RowBuilder(section.title));
    for (const panel of section.panels) builder.withPanel(panel);
  }
  const dashboard = builder.build();
  (dashboard.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
    if (panel.type !== 'row') targetsOf(panel as Panel).forEach((t, j) => { t.refId = refId(j); });
  });
  return dashboard;
}

/** `A` … `Z`, `AA` …: Grafana's own names for a panel's queries. */
function refId(index: number): string {
  const letter = String.fromCharCode(65 + (index % 26));
  return index < 26 ? letter : refId(Math.floor(index / 26) - 1) + letter;
}

function targetsOf(panel: Panel): Dataquery[] {
  return (panel.targets ?? []).map((t: AnyDataquery) => t as unknown as Dataquery);
}

/** Every panel, those inside collapsed rows included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p: Panel | RowPanel) => (p.type === 'row' ? (p as RowPanel).panels : [p as Panel]));
}

/** Every PromQL expression of a dashboard, as written (with Grafana's variables), in panel order. */
export function dashboardExpressions(dashboard: Dashboard): string[] {
  return panelsOf(dashboard).flatMap((p) => targetsOf(p).flatMap((t) => (t.expr === undefined ? [] : [t.expr])));
}

/**
 * The Grafana variables the expressions use, each with a value of the kind Grafana puts there
 * when it sends the query: with these in place, an expression is what Prometheus receives.
 */
export const GRAFANA_VARIABLE_EXAMPLES: Readonly<Record<string, string>> = {
  // At least four scrape intervals (Grafana's rule for $__rate_interval); a duration either way.
  $__rate_interval: '2m',
  $__interval: '30s',
  $__range: '6h',
};

/** An expression with Grafana's variables replaced by example values, as Prometheus would receive it. */
export function asSentToPrometheus(expr: string): string {
  return Object.entries(GRAFANA_VARIABLE_EXAMPLES).reduce((e, [variable, value]) => e.replaceAll(variable, value), expr);
}

/**
 * A dashboard UID: `<instance>-<kind>`, unique to the application and environment (one Grafana may
 * show several), or, when that is longer than Grafana allows, its first characters and a hash of
 * the whole, so two long names still differ.
 */
export function dashboardUid(instance: string, kind: string): string {
  const uid = `${instance}-${kind}`;
  if (uid.length <= MAX_UID_LENGTH) return uid;
  const hash = createHash('sha256').update(uid).digest('hex').slice(0, 8);
  return `${uid.slice(0, MAX_UID_LENGTH - hash.length - 1)}-${hash}`;
}

/** `0.999` → `99.9%`. */
export function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(12))}%`;
}

/** A PromQL label matcher on one value, or on any of several: `name="a"`, `name=~"a|b"`. */
export function matcher(label: string, values: readonly string[]): string {
  if (values.length === 0) throw new Error(`no value for the ${label} matcher`);
  if (values.length === 1) return `${label}="${values[0]}"`;
  // A regular expression inside a PromQL string: its own backslashes written twice.
  return `${label}=~"${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|')}"`;
}
