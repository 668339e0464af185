/**
 * LogQL written from the one definition of the labels (log-streams.ts): a query can only select
 * on a label the collector sets. Values are quoted as LogQL strings (Go's syntax: JSON's quoting
 * of these values is the same).
 */
import { LOG_LABELS, type LogLabel } from './log-streams';

type LabelKey = keyof typeof LOG_LABELS;

/** A matcher's value: equal to a string, or matching a regular expression (`{ re: 'a|b' }`). */
export type MatcherValue = string | { readonly re: string };

/** A stream selector: `{namespace="student-portal", log_type="audit"}`, in LOG_LABELS' order. */
export function streamSelector(matchers: Partial<Record<LabelKey, MatcherValue>>): string {
  const parts = (Object.keys(LOG_LABELS) as LabelKey[])
    .filter((key) => matchers[key] !== undefined)
    .map((key) => {
      const value = matchers[key] as MatcherValue;
      const label: LogLabel = LOG_LABELS[key];
      return typeof value === 'string' ? `${label}=${JSON.stringify(value)}` : `${label}=~${JSON.stringify(value.re)}`;
    });
  if (parts.length === 0) throw new Error('a LogQL stream selector needs at least one matcher');
  return `{${parts.join(', ')}}`;
}
