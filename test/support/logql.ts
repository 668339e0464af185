/**
 * LogQL read with Grafana's own parser for Loki's query editor (@grafana/lezer-logql): whether a
 * query parses, and which labels it relies on. A stream selector may name only the collector's
 * labels; a label filter before the first parser stage (`| json`, `| logfmt`…) may name a label or
 * a structured metadata key the collector sets. After a parser, filters read the line's own fields.
 */
import { parser } from '@grafana/lezer-logql';
import type { SyntaxNode } from '@lezer/common';

export interface ParsedLogql {
  /** Where the parser had to recover from an error, as `offset: text`; empty when it parsed. */
  readonly errors: readonly string[];
  /** Labels named in stream selectors (`{app="api"}`). */
  readonly selectorLabels: readonly string[];
  /** Labels or structured metadata named in label filters before any parser stage of their pipeline. */
  readonly unparsedFilterLabels: readonly string[];
}

/** The stages of one pipeline, in order (the grammar nests `PipelineExpr` to the left). */
function pipelineStages(pipeline: SyntaxNode): SyntaxNode[] {
  const stages: SyntaxNode[] = [];
  const walk = (node: SyntaxNode): void => {
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.name === 'PipelineExpr') walk(c);
      else if (c.name === 'PipelineStage') stages.push(c);
    }
  };
  walk(pipeline);
  return stages;
}

/** The identifiers of every Matcher under `node` (a label filter may combine several with and/or). */
function matcherLabels(node: SyntaxNode, text: string): string[] {
  const out: string[] = [];
  const cursor = node.cursor();
  do {
    if (cursor.name === 'Matcher') {
      const id = cursor.node.getChild('Identifier');
      if (id) out.push(text.slice(id.from, id.to));
    }
  } while (cursor.next() && cursor.from < node.to);
  return out;
}

export function parseLogql(query: string): ParsedLogql {
  const errors: string[] = [];
  const selector = new Set<string>();
  const unparsed = new Set<string>();
  parser.parse(query).iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(`${ref.from}: ${JSON.stringify(query.slice(Math.max(0, ref.from - 20), ref.to + 20))}`);
      if (ref.name === 'Selector') for (const label of matcherLabels(ref.node, query)) selector.add(label);
      // The outermost PipelineExpr of a log expression; nested ones are its left parts.
      if (ref.name === 'PipelineExpr' && ref.node.parent?.name !== 'PipelineExpr') {
        for (const stage of pipelineStages(ref.node)) {
          if (stage.getChild('LabelParser') || stage.getChild('JsonExpressionParser') || stage.getChild('LogfmtParser') || stage.getChild('LogfmtExpressionParser')) break;
          const filter = stage.getChild('LabelFilter');
          if (filter) for (const label of matcherLabels(filter, query)) unparsed.add(label);
        }
      }
    },
  });
  return { errors, selectorLabels: [...selector].sort(), unparsedFilterLabels: [...unparsed].sort() };
}
