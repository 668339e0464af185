/**
 * Grafana's Loki data sources, as the kube-prometheus-stack Application of argocd/<env> carries them
 * (the gitops chart's context, from the environment's configuration): one per tenant, through Loki's
 * gateway, the tenant in `X-Scope-OrgID`; the application logs' in the main organization, the audit
 * stream's only in the auditors' organization (`logging.audit.grafanaOrgId`) and without one in none,
 * since Grafana OSS shows a data source to every member of its organization. The values are checked
 * against what the pinned charts render them with: kube-prometheus-stack's data source ConfigMap and
 * the grafana subchart's keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import {
  GRAFANA_MAIN_ORG_ID, KUBE_PROMETHEUS_STACK_NAME, LOKI_DATASOURCE_UIDS, lokiDataSources, TENANT_HEADER, type LokiDataSource,
} from '../charts/gitops/values/kube-prometheus-stack';
import { LOKI_GATEWAY_PORT, LOKI_GATEWAY_SERVICE, LOKI_NAME, LOKI_TENANTS } from '../charts/gitops/values/loki';
import type { Model } from '../environments/model/model';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { shop, variant, variantModel } from './support/fixtures';
import { CHARTS_DIR, chartDefaults } from './support/helm-values';
import { only } from './support/synth-construct';

type Json = Record<string, any>;
const AUDITORS_ORG = 3;

/** The kube-prometheus-stack values of a model, as Argo CD passes them to the chart. */
const kpsValues = (model: Model): Json =>
  only(argocdObjects(model, modelObjects(model)), 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject as Json;
const lokiValues = (model: Model): Json => only(argocdObjects(model, modelObjects(model)), 'Application', 'loki').spec.source.helm.valuesObject as Json;

const plain = variantModel(shop);
const withAuditors = variantModel(shop, { logging: { audit: { grafanaOrgId: AUDITORS_ORG } } });
const sourcesOf = (model: Model) => kpsValues(model).grafana.additionalDataSources as LokiDataSource[];
const tenantOf = (d: LokiDataSource) => d.secureJsonData.httpHeaderValue1;

describe('one Loki data source per tenant, the tenant in the header Loki reads it from', () => {
  test('without an auditors\' organization: the application logs\' only, in the main organization; no data source reads the audit tenant', () => {
    expect(sourcesOf(plain)).toEqual([{
      name: 'Loki application', type: 'loki', uid: LOKI_DATASOURCE_UIDS.application, orgId: GRAFANA_MAIN_ORG_ID, access: 'proxy',
      url: `http://${LOKI_GATEWAY_SERVICE}.${PLATFORM_RELEASES.loki.namespace}.svc.${plain.env.clusterDomain}:${LOKI_GATEWAY_PORT}`,
      editable: false, jsonData: { httpHeaderName1: 'X-Scope-OrgID' }, secureJsonData: { httpHeaderValue1: LOKI_TENANTS.application },
    }]);
    expect(JSON.stringify(kpsValues(plain).grafana)).not.toContain(`"${LOKI_TENANTS.audit}"`);
  });

  test('with one: the audit stream\'s in that organization only, the application logs\' still in the main one', () => {
    const sources = sourcesOf(withAuditors);
    expect(sources.map((d) => [tenantOf(d), d.orgId, d.uid])).toEqual([
      [LOKI_TENANTS.application, GRAFANA_MAIN_ORG_ID, LOKI_DATASOURCE_UIDS.application],
      [LOKI_TENANTS.audit, AUDITORS_ORG, LOKI_DATASOURCE_UIDS.audit],
    ]);
    for (const d of sources) {
      expect(d.jsonData.httpHeaderName1).toBe(TENANT_HEADER);
      expect(d.type).toBe('loki');
      expect(d.url).toBe(sources[0].url);
    }
    // Every tenant has a data source, each under its own UID.
    expect(sources.map(tenantOf).sort()).toEqual(Object.values(LOKI_TENANTS).sort());
    expect(new Set(sources.map((d) => d.uid)).size).toBe(sources.length);
  });

  test('the header is the one Loki takes the tenant from: Loki runs with authentication, and so refuses a query without it', () => {
    expect(TENANT_HEADER).toBe('X-Scope-OrgID');
    expect(lokiValues(plain).loki.auth_enabled).toBe(true);
  });

  test('the URL is the Service of Loki\'s gateway, as the loki chart renders it, in Loki\'s namespace', () => {
    const loki = lokiValues(plain);
    expect(loki.fullnameOverride).toBe(LOKI_NAME);
    // templates/gateway/service.yaml: `<fullname>-gateway`, port gateway.service.port.
    expect(LOKI_GATEWAY_SERVICE).toBe(`${LOKI_NAME}-gateway`);
    const gateway = chartDefaults('loki').gateway as Json;
    expect(gateway.enabled).toBe(true);
    expect(gateway.service.port).toBe(LOKI_GATEWAY_PORT);
    expect(loki.gateway?.enabled).not.toBe(false);
    const application = only(argocdObjects(plain, modelObjects(plain)), 'Application', 'loki');
    expect(application.spec.destination.namespace).toBe(PLATFORM_RELEASES.loki.namespace);
  });

  test('the main organization can never get the audit data source, nor can an organization id below 2 be configured', () => {
    const ctxOf = (grafanaOrgId: number) => ({
      clusterDomain: 'cluster.test', logging: { retention: { application: '24h', audit: '48h' }, audit: { grafanaOrgId } },
    }) as unknown as Parameters<typeof lokiDataSources>[0];
    expect(() => lokiDataSources(ctxOf(GRAFANA_MAIN_ORG_ID))).toThrow(/main organization/);
    expect(lokiDataSources(ctxOf(2)).map((d) => d.orgId)).toEqual([GRAFANA_MAIN_ORG_ID, 2]);
    expect(() => variant(shop, { logging: { audit: { grafanaOrgId: 1 } } })).toThrow(/grafanaOrgId/);
  });
});

describe('what the pinned charts make of these values', () => {
  const KPS = PLATFORM_RELEASES['kube-prometheus-stack'];
  const kpsDir = join(CHARTS_DIR, `${KPS.chart}-${KPS.version}`);
  const defaults = chartDefaults('kube-prometheus-stack').grafana as Json;

  test('kube-prometheus-stack renders additionalDataSources into its data source ConfigMap, which Grafana\'s data source sidecar loads', () => {
    // templates/grafana/configmaps-datasources.yaml at the chart's commit: rendered when grafana and its
    // datasources sidecar are on, `additionalDataSources` appended to the `datasources` list.
    expect(defaults.additionalDataSources).toEqual([]);
    expect(defaults.sidecar.datasources.enabled).toBe(true);
    expect(kpsValues(withAuditors).grafana.sidecar).not.toHaveProperty('datasources');
    expect(kpsValues(withAuditors).grafana.enabled).toBe(true);
    // The chart's own Prometheus data source is the main organization's default; ours are not marked default.
    expect(defaults.sidecar.datasources.isDefaultDatasource).toBe(true);
    for (const d of sourcesOf(withAuditors)) expect(d).not.toHaveProperty('isDefault');
    expect(KUBE_PROMETHEUS_STACK_NAME).toBe(kpsValues(plain).fullnameOverride);
  });

  test('nothing in them is changed on the way: no Helm template (the list goes through `tpl`), no `$` (Grafana expands environment variables in provisioning files)', () => {
    const text = JSON.stringify(sourcesOf(withAuditors)) + JSON.stringify(kpsValues(withAuditors).grafana.dashboardProviders);
    expect(text).not.toContain('{{');
    expect(text).not.toContain('$');
  });

  test('the keys kube-prometheus-stack\'s values.yaml lacks are the grafana subchart\'s, at the version kube-prometheus-stack pins', () => {
    const missing = (values: unknown, upstream: unknown, path: string[] = []): string[] => {
      if (values === null || typeof values !== 'object' || Array.isArray(values)) return [];
      return Object.entries(values as Json).flatMap(([k, v]) => {
        const up = (upstream as Json | undefined)?.[k];
        if (up === undefined) return [[...path, k].join('.')];
        return up !== null && typeof up === 'object' && Object.keys(up).length > 0 ? missing(v, up, [...path, k]) : [];
      });
    };
    // chartDefaults has the grafana subchart's own values.yaml (test/fixtures/charts/grafana-12.11.1)
    // under `grafana`, as Helm coalesces them: every key is known but the volume's class, which
    // the subchart documents in a comment (`# storageClassName: default`).
    expect(missing(kpsValues(plain).grafana, defaults)).toEqual(['persistence.storageClassName']);
    expect(missing(kpsValues(withAuditors).grafana, defaults)).toEqual(['persistence.storageClassName']);
    // Grafana keeps its database, the auditors' organization in it, across restarts.
    expect(kpsValues(plain).grafana.persistence).toMatchObject({ enabled: true, type: 'pvc' });
    expect(kpsValues(plain).grafana.deploymentStrategy).toEqual({ type: 'Recreate' });
    // No root init container to chown the volume: the subchart's fsGroup does it.
    expect(kpsValues(plain).grafana.initChownData).toEqual({ enabled: false });
    expect((defaults.initChownData as Json).enabled).toBe(true);
    expect((defaults.securityContext as Json).fsGroup).toBe(472);
    expect(defaults.persistence).toMatchObject({ enabled: false, accessModes: ['ReadWriteOnce'] });
    const chartYaml = parse(readFileSync(join(kpsDir, 'Chart.yaml'), 'utf8')) as Json;
    expect(chartYaml.dependencies.find((d: Json) => d.name === 'grafana')).toMatchObject({
      version: '12.11.1', repository: 'https://grafana-community.github.io/helm-charts',
    });
  });
});
