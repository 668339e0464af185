/**
 * docs/network-flows.md (pipeline/flows-doc.ts): the committed document is exactly what
 * `npm run synth` writes from the real environments' models, so a reviewer reading it reads the
 * segmentation that dist/ enforces; and the rendering says every flow of the table, once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { FLOWS_DOC, flowsDocument } from '../pipeline/flows-doc';
import { synthesizeAll } from '../pipeline/pipeline';
import { boxDesignerWithoutData, shop, variant, variantModel } from './support/fixtures';

const root = process.cwd();
const envs = resolveEnvironments(environments, root);

test(`${FLOWS_DOC} is what npm run synth writes from the environments (run npm run synth after changing the flows)`, async () => {
  const committed = readFileSync(join(root, FLOWS_DOC), 'utf8');
  // The pipeline main.ts runs: the document comes with dist/, from the same validated environments.
  const { documents } = await synthesizeAll(environments, root);
  expect([...documents.keys()]).toContain(FLOWS_DOC);
  expect(documents.get(FLOWS_DOC)).toBe(flowsDocument(envs.map(buildModel)));
  expect(committed).toBe(documents.get(FLOWS_DOC));
});

/** The table rows of a rendered document, per `## ` section. */
function rowsBySection(doc: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section: string | undefined;
  for (const l of doc.split('\n')) {
    if (l.startsWith('## ')) out.set(section = l.slice(3), []);
    else if (section && l.startsWith('| ') && !l.startsWith('| from |')) out.get(section)!.push(l);
  }
  return out;
}

test('one section per environment, with its namespace, and one row per flow saying why, in the table\'s order', () => {
  const shopEnv = variant(shop);
  const noData = boxDesignerWithoutData();
  const sections = rowsBySection(flowsDocument([shopEnv, noData].map(buildModel)));
  expect([...sections.keys()]).toEqual([`shop (namespace ${shopEnv.app.namespace})`, `box-designer (namespace ${noData.app.namespace})`]);
  for (const [env, rows] of [[shopEnv, sections.get(`shop (namespace ${shopEnv.app.namespace})`)!], [noData, sections.get(`box-designer (namespace ${noData.app.namespace})`)!]] as const) {
    const flows = buildModel(env).network.flows;
    expect(rows).toHaveLength(flows.length);
    for (const [i, f] of flows.entries()) expect(rows[i].endsWith(`| ${f.why} |`)).toBe(true);
  }
});

test('parties read as a reviewer needs them: other namespaces named, address ranges with their exceptions', () => {
  const doc = flowsDocument([variantModel(shop)]);
  expect(doc).toContain('| every pod of the namespace | cluster DNS (namespace kube-system) | 53/UDP, 53/TCP |');
  expect(doc).toContain('the object storage, at any public address (0.0.0.0/0 except 10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16)');
  expect(doc).toContain('the Kubernetes API server, at any address (0.0.0.0/0) | 443/TCP, 6443/TCP |');
  // A row is one line of a Markdown table: no cell breaks it.
  for (const row of [...rowsBySection(doc).values()].flat()) expect(row.split(/(?<!\\)\|/)).toHaveLength(6);
});
