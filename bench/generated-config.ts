/**
 * The generated configurations of the benchmark: the production definition with N services in
 * place of its own. Used by bench/generated-synth.ts and bench/profile-synth.ts.
 *
 * The services alternate between the two shapes of the reference application: a frontend like
 * `web` (calls the next backend) and a backend like `api` (uses PostgreSQL and Redis, exposes
 * metrics). Each gets its own name (svc-0001 …), port and image pin; one host routes a path to
 * each routed service.
 *
 * Routed services: an HTTPRoute takes at most 16 rules (Gateway API schema, enforced by the
 * validation gate) and the project writes one HTTPRoute per host, so callers route at most the
 * first 16 services and the rest are internal (called by a frontend).
 */
import { createHash } from 'node:crypto';
import type { EnvironmentDefinition } from '../environments/define';
import { production } from '../environments/production';

/** Most rules one HTTPRoute may have (gateway.networking.k8s.io/v1 HTTPRouteSpec.rules maxItems). */
export const HTTPROUTE_MAX_RULES = 16;

export function serviceName(i: number): string {
  return `svc-${String(i).padStart(4, '0')}`;
}

/** A deterministic, well-formed sha256 digest for a generated image. */
function digestOf(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

type Json = Record<string, any>;

/**
 * The production definition with `count` generated services replacing its own, `routed` of them
 * routed on one host, and the image pins those services need (to be written to `pinsFile`).
 */
export function generatedDefinition(count: number, routed: number, pinsFile: string): { def: EnvironmentDefinition; pins: string } {
  const base = production.config as Json;
  const templates = base.services as Json | undefined;
  const frontend = templates?.web;
  const backend = templates?.api;
  if (!frontend || !backend) throw new Error('bench: the production definition no longer has services "web" and "api" to copy');
  const baseHost = (base.hosts as Json[] | undefined)?.[0]?.hostname ?? 'portal.university.example';

  const services: Json = {};
  const pinLines = ['services:'];
  const routes: { path: string; service: string }[] = [];
  for (let i = 1; i <= count; i += 1) {
    const name = serviceName(i);
    const isFrontend = i % 2 === 1;
    const template = structuredClone(isFrontend ? frontend : backend) as Json;
    template.description = `${isFrontend ? 'frontend' : 'backend'} ${i} (generated for the benchmark)`;
    template.port = 3000 + i;
    if (template.env && 'PORT' in template.env) template.env.PORT = String(template.port);
    if (template.env && 'SERVER_PORT' in template.env) template.env.SERVER_PORT = String(template.port);
    if (isFrontend) {
      // A frontend calls the backend after it, when there is one: one call each, as in the app.
      template.calls = i + 1 <= count ? [serviceName(i + 1)] : [];
      if (template.env && 'API_INTERNAL_URL' in template.env) {
        template.env.API_INTERNAL_URL = i + 1 <= count ? `http://${serviceName(i + 1)}` : 'http://localhost';
      }
    }
    services[name] = template;
    pinLines.push(
      `  ${name}:`,
      `    repository: registry.university.example/student-portal/${name}`,
      `    tag: 1.0.${i}`,
      `    digest: ${digestOf(name)}`,
    );
    if (i <= routed) routes.push({ path: i === 1 ? '/' : `/${name}`, service: name });
  }

  // The reference app's workers and scheduled jobs stay, each pinned as the services are (a job
  // that runs another workload's image, imageOf, has no pin of its own).
  for (const section of ['workers', 'jobs'] as const) {
    const pinned = Object.entries((base[section] ?? {}) as Json).filter(([, w]) => w.imageOf === undefined);
    if (pinned.length === 0) continue;
    pinLines.push(`${section}:`);
    for (const [name] of pinned) {
      pinLines.push(`  ${name}:`, `    repository: registry.university.example/student-portal/${name}`, '    tag: 1.0.0', `    digest: ${digestOf(name)}`);
    }
  }

  const config: EnvironmentDefinition['config'] = {
    ...base,
    services,
    hosts: [{ hostname: baseHost, routes }],
  };
  return {
    def: { name: production.name, config, imagePinsFile: pinsFile },
    pins: `${pinLines.join('\n')}\n`,
  };
}
