/**
 * One snapshot per output file of every environment, named by its path under dist/ or argocd/: a
 * change to any object shows up in review as a diff of exactly that file. After an intended change, update
 * with `npm test -- -u` and review the snapshot diff like code.
 */
import { environments } from '../environments/index';
import { synthesizeAll } from '../pipeline/pipeline';

const { files, argocd } = await synthesizeAll(environments, process.cwd());
const paths = [...files.keys()].sort();
const argocdPaths = [...argocd.keys()].sort();

test('the set of files', () => {
  expect(paths).toMatchSnapshot();
});

test.each(paths)('dist/%s', (path) => {
  expect(files.get(path)).toMatchSnapshot();
});

test('the set of Argo CD files', () => {
  expect(argocdPaths).toMatchSnapshot();
});

test.each(argocdPaths)('argocd/%s', (path) => {
  expect(argocd.get(path)).toMatchSnapshot();
});
