/**
 * PromQL read with Prometheus' own parser for its web UI (@prometheus-io/lezer-promql): whether an
 * expression parses, and the metric names it selects.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface ParsedPromql {
  /** Where the parser had to recover from an error, as `offset: text`; empty when it parsed. */
  readonly errors: readonly string[];
  /** The metric names of its selectors (`name{…}` or `{__name__="name"}`). */
  readonly metricNames: readonly string[];
}

export function parsePromql(expr: string): ParsedPromql {
  const errors: string[] = [];
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.add(expr.slice(id.from, id.to));
        for (const m of node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          const label = m.getChild('LabelName');
          const value = m.getChild('StringLiteral');
          if (label && value && expr.slice(label.from, label.to) === '__name__') names.add(JSON.parse(expr.slice(value.from, value.to)) as string);
        }
      }
    },
  });
  return { errors, metricNames: [...names].sort() };
}
