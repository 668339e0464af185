/**
 * charts/gitops/notifications.ts: Argo CD's notifications of the environment's two Applications,
 * read back from argocd/<env>/ the way the notifications controller reads them: the subscriptions
 * from the Applications' annotations, the services, templates and triggers from the argo-cd
 * release's values (the chart writes them into argocd-notifications-cm as they are), the `$key`
 * references from argocd-notifications-secret, which External Secrets fills.
 */
import { parse } from 'yaml';
import { ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { EVENTS, NOTIFICATIONS_SECRET, PAGERDUTY_RECIPIENT, RECEIVERS } from '../charts/gitops/notifications';
import { LOKI_STORAGE_SECRET } from '../charts/gitops/values/loki';
import { environments } from '../environments/index';
import { ConfigError, resolveEnvironments } from '../environments/load';
import { buildModel, type Model } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { validateObject } from '../pipeline/schema-validation';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { AS_PRODUCTION, boxDesigner, variant, variantModel } from './support/fixtures';
import { only } from './support/synth-construct';

type Json = Record<string, any>;
const SUBSCRIBE = 'notifications.argoproj.io/subscribe.';

const real = Object.fromEntries(resolveEnvironments(environments, process.cwd()).map((env) => [env.name, buildModel(env)]));

interface Read {
  readonly model: Model;
  readonly objects: K8sObject[];
  /** The two Applications of dist/<env>. */
  readonly apps: K8sObject[];
  /** The argo-cd release's `notifications` values. */
  readonly values: Json;
  /** `<trigger>.<service>` → recipient, per Application name. */
  readonly subscriptions: Map<string, Record<string, string>>;
}

function read(model: Model): Read {
  const objects = argocdObjects(model, modelObjects(model));
  const apps = [model.delivery.appApplication, model.delivery.dataApplication].map((name) => only(objects, 'Application', name));
  const values = (only(objects, 'Application', 'argo-cd').spec.source.helm.valuesObject as Json).notifications as Json;
  const subscribed = (a: K8sObject) => Object.entries((a.metadata.annotations ?? {}) as Record<string, string>)
    .filter(([k]) => k.startsWith(SUBSCRIBE)).map(([k, v]) => [k.slice(SUBSCRIBE.length), v]);
  const subscriptions = new Map(objects.filter((o) => o.kind === 'Application').map((a) => [a.metadata.name, Object.fromEntries(subscribed(a))]));
  return { model, objects, apps, values, subscriptions };
}

const staging = read(real.staging);
const production = read(real.production);

describe.each([['staging', staging], ['production', production]] as const)('%s', (_name, r) => {
  const notifiers = r.values.notifiers as Record<string, string>;
  const templates = r.values.templates as Record<string, string>;
  const triggers = r.values.triggers as Record<string, string>;
  /** Services by name with their type (`service.<type>.<name>`, or `service.<type>` named as the type). */
  const services = new Map(Object.keys(notifiers).map((k) => {
    const parts = k.split('.');
    return [parts[2] ?? parts[1], { type: parts[1], options: parse(notifiers[k]) as Json }];
  }));

  test('only the two Applications of dist/<env> subscribe; the platform\'s and the root do not', () => {
    for (const [name, subs] of r.subscriptions) {
      const isApp = r.apps.some((a) => a.metadata.name === name);
      expect({ name, subscribes: Object.keys(subs).length > 0 }).toEqual({ name, subscribes: isApp });
    }
    expect(r.subscriptions.get(r.model.delivery.appApplication)).toEqual(r.subscriptions.get(r.model.delivery.dataApplication));
  });

  test('every subscription names a defined trigger and service (names without dots), and a pagerdutyv2 recipient has a key', () => {
    for (const [app, subs] of r.subscriptions) {
      for (const [key, recipient] of Object.entries(subs)) {
        // The controller splits the annotation at dots: trigger, then service.
        const [trigger, service, ...rest] = key.split('.');
        expect({ app, key, rest }).toEqual({ app, key, rest: [] });
        expect(Object.keys(triggers)).toContain(`trigger.${trigger}`);
        expect([...services.keys()]).toContain(service);
        if (services.get(service)?.type === 'pagerdutyv2') expect(Object.keys(services.get(service)?.options.serviceKeys)).toContain(recipient);
      }
    }
  });

  test('every trigger sends a defined template that has a part for each service subscribed to it, and nothing is defined unused', () => {
    const subs = r.subscriptions.get(r.model.delivery.appApplication) ?? {};
    for (const [key, text] of Object.entries(triggers)) {
      const trigger = key.slice('trigger.'.length);
      const conditions = parse(text) as Json[];
      expect(conditions).toHaveLength(1);
      expect(conditions[0]).toMatchObject({ when: expect.any(String), oncePer: 'app.status.operationState?.syncResult?.revision' });
      for (const name of conditions[0].send as string[]) {
        expect(Object.keys(templates)).toContain(`template.${name}`);
        const template = parse(templates[`template.${name}`]) as Json;
        for (const service of Object.keys(subs).filter((k) => k.startsWith(`${trigger}.`)).map((k) => k.split('.')[1])) {
          if (services.get(service)?.type === 'webhook') expect(template.webhook[service]).toMatchObject({ method: 'POST', body: expect.any(String) });
          else expect(template.pagerdutyv2).toMatchObject({ summary: expect.any(String), severity: 'critical', source: expect.any(String) });
        }
      }
      expect(Object.keys(subs).some((k) => k.startsWith(`${trigger}.`))).toBe(true);
    }
    const usedServices = new Set(Object.keys(subs).map((k) => k.split('.')[1]));
    expect([...services.keys()].sort()).toEqual([...usedServices].sort());
    expect(Object.keys(templates).sort()).toEqual(Object.values(EVENTS).map((t) => `template.${t}`).sort());
  });

  test('the templates read only fields an Application has, and the context the chart writes', async () => {
    const text = Object.values(templates).join('\n');
    const appPaths = [...new Set([...text.matchAll(/\.app((?:\.[A-Za-z]+)+)/g)].map((m) => m[1].slice(1)))];
    expect(appPaths).toEqual(expect.arrayContaining(['metadata.name', 'status.sync.revision']));
    // Each path set on a real Application, validated strictly (unknown fields rejected): a field
    // Argo CD's Application does not have fails here, as a misspelt one shows.
    const problems = async (paths: readonly string[]) => {
      const app = structuredClone(r.apps[0]) as Json;
      for (const path of paths.filter((p) => !p.startsWith('metadata.'))) {
        const keys = path.split('.');
        let at = app;
        for (const k of keys.slice(0, -1)) at = (at[k] ??= {});
        at[keys[keys.length - 1]] ??= 'x';
      }
      // ... with the fields those objects require.
      Object.assign(app.status.sync, { status: 'Synced' });
      Object.assign(app.status.operationState ?? {}, { operation: { sync: {} }, phase: 'Failed', startedAt: '2026-01-01T00:00:00Z' });
      return validateObject(app);
    };
    expect(await problems(appPaths)).toEqual([]);
    expect(await problems([...appPaths, 'status.sync.revison'])).not.toEqual([]);
    const contextKeys = [...new Set([...text.matchAll(/\.context\.([A-Za-z]+)/g)].map((m) => m[1]))].sort();
    expect(contextKeys).toEqual(['argocdUrl', ...Object.keys(r.values.context)].sort());
    expect(r.values.argocdUrl).toBe(`https://${r.model.env.delivery.argocdHost}`);
    expect(r.values.context).toEqual({ environment: r.model.env.name });
  });

  test('a Slack message is one JSON object whose text says application, environment, revision and the link (and the error of a failure)', () => {
    for (const [key, t] of Object.entries(templates)) {
      const body = (parse(t) as Json).webhook?.[RECEIVERS.slack.service]?.body as string | undefined;
      if (body === undefined) continue;
      // The Go template's one action is the text, JSON-quoted by toJson; replaced by a string, the body is JSON.
      expect(JSON.parse(body.replace(/\{\{ .*? \}\}/s, '"x"'))).toEqual({ text: 'x' });
      expect(body).toMatch(/^\{"text": \{\{ printf "[^"]*" (\.[\w.]+ )+\| toJson \}\}\}$/);
      const args = body.slice(body.indexOf('" ') + 2, body.indexOf(' | toJson')).split(' ');
      expect(args.slice(0, 3)).toEqual(['.app.metadata.name', '.context.environment', '.app.status.sync.revision']);
      expect(args.slice(-2)).toEqual(['.context.argocdUrl', '.app.metadata.name']);
      // printf: as many verbs as arguments.
      expect({ key, verbs: body.match(/%s/g)?.length }).toEqual({ key, verbs: args.length });
      if (key === 'template.app-sync-failed') expect(args).toContain('.app.status.operationState.message');
    }
  });

  test('no secret value in argocd/<env>: the services hold `$key` references, exactly the keys the ExternalSecret makes', () => {
    const all = JSON.stringify(r.objects);
    expect(all).not.toMatch(/hooks\.slack\.com|events\.pagerduty\.com/);
    expect(r.objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(r.values.secret).toEqual({ create: false, name: NOTIFICATIONS_SECRET });
    const referenced = new Set<string>();
    for (const { type, options } of services.values()) {
      const credentials = type === 'webhook' ? [options.url as string] : Object.values(options.serviceKeys as Record<string, string>);
      for (const c of credentials) {
        expect(c).toMatch(/^\$[\w-]+$/);
        referenced.add(c.slice(1));
      }
    }
    const secret = only(r.objects, 'ExternalSecret', NOTIFICATIONS_SECRET);
    expect(secret.metadata.namespace).toBe(r.model.delivery.namespace);
    expect(secret.spec.target.name).toBe(NOTIFICATIONS_SECRET);
    expect(secret.spec.refreshInterval).toBe(r.model.env.externalSecrets?.refreshInterval);
    expect(secret.spec.secretStoreRef.name).toBe(r.model.env.externalSecrets?.store);
    expect(secret.spec.data.map((d: Json) => d.secretKey).sort()).toEqual([...referenced].sort());
  });

  test('the Secret comes after the application\'s Applications, and the bootstrap project may hold it', () => {
    const secret = only(r.objects, 'ExternalSecret', NOTIFICATIONS_SECRET);
    const wave = (o: K8sObject) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
    for (const a of r.apps) expect(wave(secret)).toBeGreaterThan(wave(a));
    expect(wave(secret)).toBe(ROOT_WAVES.notifications);
    expect(only(r.objects, 'AppProject', r.model.delivery.bootstrapProject).spec.namespaceResourceWhitelist)
      .toContainEqual({ group: 'external-secrets.io', kind: 'ExternalSecret' });
  });
});

test('staging (Slack only): the three events to the Slack webhook, no PagerDuty anywhere', () => {
  const keyPrefix = real.staging.env.externalSecrets?.keyPrefix;
  expect(real.staging.env.alerting.pagerduty).toBeUndefined();
  for (const a of staging.apps) {
    expect(staging.subscriptions.get(a.metadata.name)).toEqual({
      'on-sync-failed.slack-webhook': '', 'on-health-degraded.slack-webhook': '', 'on-deployed.slack-webhook': '',
    });
  }
  expect(JSON.stringify(staging.objects).toLowerCase()).not.toContain('pagerduty');
  expect(only(staging.objects, 'ExternalSecret', NOTIFICATIONS_SECRET).spec.data).toEqual([expect.objectContaining({
    secretKey: 'slack-webhook-url',
    remoteRef: expect.objectContaining({ key: `${keyPrefix}/${real.staging.env.alerting.slack?.secretName}`, property: 'webhook-url' }),
  })]);
});

test('production: a failed sync pages through PagerDuty (critical), degraded and deployed go to Slack', () => {
  const keyPrefix = real.production.env.externalSecrets?.keyPrefix;
  for (const a of production.apps) {
    expect(production.subscriptions.get(a.metadata.name)).toEqual({
      'on-sync-failed.pagerdutyv2': PAGERDUTY_RECIPIENT, 'on-health-degraded.slack-webhook': '', 'on-deployed.slack-webhook': '',
    });
  }
  const template = parse((production.values.templates as Record<string, string>)['template.app-sync-failed']) as Json;
  expect(template.pagerdutyv2.severity).toBe('critical');
  expect(template.pagerdutyv2.summary).toContain('{{.app.status.operationState.message}}');
  expect(template.pagerdutyv2.url).toBe('{{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true');
  expect(only(production.objects, 'ExternalSecret', NOTIFICATIONS_SECRET).spec.data.map((d: Json) => [d.secretKey, d.remoteRef.key, d.remoteRef.property]))
    .toEqual([
      ['slack-webhook-url', `${keyPrefix}/${real.production.env.alerting.slack?.secretName}`, 'webhook-url'],
      ['pagerduty-routing-key', `${keyPrefix}/${real.production.env.alerting.pagerduty?.secretName}`, 'routing-key'],
    ]);
});

test('PagerDuty without Slack: a failed sync pages, nothing else is sent (a deployment never pages)', () => {
  // Production (only production pages), with email beside PagerDuty, as production requires.
  const r = read(variantModel(boxDesigner, { ...AS_PRODUCTION, alerting: { ...AS_PRODUCTION.alerting, pagerduty: { secretName: 'pd' } } }));
  expect(r.subscriptions.get(r.model.delivery.appApplication)).toEqual({ 'on-sync-failed.pagerdutyv2': PAGERDUTY_RECIPIENT });
  expect(Object.keys(r.values.triggers as Json)).toEqual(['trigger.on-sync-failed']);
  expect(Object.keys(r.values.notifiers as Json)).toEqual(['service.pagerdutyv2']);
});

test('email only: no notifications, no Secret (Argo CD reads an absent one as empty)', () => {
  const r = read(buildModel(variantModel(boxDesigner).env));
  expect(r.model.env.alerting).toEqual({ email: expect.anything() });
  for (const subs of r.subscriptions.values()) expect(subs).toEqual({});
  // Loki's bucket credentials are the only ExternalSecret left (the box designer has objectStorage).
  expect(r.objects.filter((o) => o.kind === 'ExternalSecret').map((o) => o.metadata.name)).toEqual([LOKI_STORAGE_SECRET]);
  expect([r.values.notifiers, r.values.templates, r.values.triggers]).toEqual([{}, {}, {}]);
});

test('a receiver without the secret manager is a configuration error naming the environment and the field, not a crash', () => {
  let message = '';
  try {
    variant(boxDesigner, { alerting: { slack: { secretName: 'slack', channel: '#boxes' } }, services: { api: { uses: [] } } }, (c) => {
      c.data = {};
      delete c.backups;
      delete c.objectStorage;
      delete c.externalSecrets;
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    message = e.problems.join('\n');
  }
  expect(message).toBe('box-designer: externalSecrets is required: Alertmanager and Argo CD\'s notifications read the credentials of alerting.slack from the secret manager');
});
