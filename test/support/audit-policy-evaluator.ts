/**
 * The level an audit policy gives a request, the way kube-apiserver decides it: the first rule
 * every field of which matches wins, None when none does. A port of
 * staging/src/k8s.io/apiserver/pkg/audit/policy/checker.go of kubernetes/kubernetes (commit
 * 05c351a9037bd79bf88c56171a951c3097b658da): ruleMatches, ruleMatchesResource,
 * ruleMatchesNonResource and pathMatches, field by field, so the tests judge the policy's order
 * by the API server's rules, not by ours.
 */
import type { AuditLevel, AuditPolicy, PolicyRule } from '../../charts/logging/audit-policy';

interface Requester {
  /** Authenticated user name, e.g. `system:kube-proxy`, `system:serviceaccount:<ns>:<name>`. */
  readonly user: string;
  /** Groups the authenticator gave, e.g. `system:authenticated`, `system:nodes`. */
  readonly groups: readonly string[];
  /** The API server's verb: get, list, watch, create, update, patch, delete, deletecollection; for a URL, the lower-cased HTTP method. */
  readonly verb: string;
}

/** A request for an API object (`/api/...`, `/apis/...`). */
export interface ResourceRequest extends Requester {
  /** API group; '' is the core group. */
  readonly group: string;
  /** Plural resource, e.g. `pods`. */
  readonly resource: string;
  /** e.g. `exec` for `pods/exec`. */
  readonly subresource?: string;
  /** '' (or absent) for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name?: string;
}

/** A request for anything else the API server serves (`/healthz`, `/version`, discovery's `/apis`). */
export interface NonResourceRequest extends Requester {
  readonly path: string;
}

export type AuditRequest = ResourceRequest | NonResourceRequest;

const isResourceRequest = (r: AuditRequest): r is ResourceRequest => !('path' in r);

/** A list that is absent or empty matches everything, as in the Go code (`len(list) > 0`). */
const given = (list: readonly string[] | readonly unknown[] | undefined): boolean => list !== undefined && list.length > 0;

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  // strings.TrimRight(spec, "*"): every trailing star goes.
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function ruleMatchesNonResource(rule: PolicyRule, r: AuditRequest): boolean {
  if (isResourceRequest(r)) return false;
  return (rule.nonResourceURLs ?? []).some((spec) => pathMatches(r.path, spec));
}

function ruleMatchesResource(rule: PolicyRule, r: AuditRequest): boolean {
  if (!isResourceRequest(r)) return false;
  if (given(rule.namespaces) && !rule.namespaces!.includes(r.namespace ?? '')) return false;
  if (!given(rule.resources)) return true;
  const sub = r.subresource ?? '';
  const combined = sub !== '' ? `${r.resource}/${sub}` : r.resource;
  const name = r.name ?? '';
  for (const gr of rule.resources!) {
    if (gr.group !== r.group) continue;
    if (!given(gr.resources)) return true;
    for (const res of gr.resources!) {
      if (given(gr.resourceNames) && !gr.resourceNames!.includes(name)) continue;
      if (res === combined || res === '*') return true;
      if (sub !== '' && res.startsWith('*/') && sub === res.slice(2)) return true;
      if (res.endsWith('/*') && r.resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

/** Whether every field the rule gives matches the request (an intersection). */
export function ruleMatches(rule: PolicyRule, r: AuditRequest): boolean {
  if (given(rule.users) && !rule.users!.includes(r.user)) return false;
  if (given(rule.userGroups) && !r.groups.some((g) => rule.userGroups!.includes(g))) return false;
  if (given(rule.verbs) && !rule.verbs!.includes(r.verb)) return false;
  if (given(rule.namespaces) || given(rule.resources)) return ruleMatchesResource(rule, r);
  if (given(rule.nonResourceURLs)) return ruleMatchesNonResource(rule, r);
  return true;
}

/** The index of the rule that decides the request, or -1 when none matches. */
export function decidingRule(policy: Pick<AuditPolicy, 'rules'>, r: AuditRequest): number {
  return policy.rules.findIndex((rule) => ruleMatches(rule, r));
}

/** The level the API server records the request at (checker.go's DefaultAuditLevel, None, when no rule matches). */
export function auditLevel(policy: Pick<AuditPolicy, 'rules'>, r: AuditRequest): AuditLevel {
  const i = decidingRule(policy, r);
  return i < 0 ? 'None' : policy.rules[i].level;
}
