/**
 * Where the CRDs of the versions charts/gitops/platform-releases.ts pins are, for scripts/import-crds.sh
 * (the table the Argo CD Applications and the checks read; test/platform-versions.test.ts holds it to
 * the pinned charts):
 *
 *   node --import tsx scripts/crd-bundles.ts <release> [<folder>]   the files of its CRD bundle, one a line
 *   node --import tsx scripts/crd-bundles.ts --dir <release>        the bundle's folder
 *
 * Paths are ../shared/<the bundle's dir>/… (SHARED_DIR names another ../shared), or in <folder> when
 * given (a copy of the CRDs elsewhere: CRDS_DIR of import-crds.sh). No file is an error.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crdBundleFiles, PLATFORM_RELEASES, type PlatformRelease, type PlatformReleaseName } from '../charts/gitops/platform-releases';

const SHARED = process.env.SHARED_DIR ?? '../shared';

function bundleOf(name: string) {
  const release: PlatformRelease | undefined = Object.hasOwn(PLATFORM_RELEASES, name) ? PLATFORM_RELEASES[name as PlatformReleaseName] : undefined;
  if (!release?.crds) throw new Error(`${name} is no release with CRDs in charts/gitops/platform-releases.ts`);
  return release.crds;
}

function main(args: readonly string[]): string {
  if (args[0] === '--dir' && args.length === 2) return join(SHARED, bundleOf(args[1]).dir);
  if (args.length < 1 || args.length > 2 || args[0].startsWith('-')) throw new Error('usage: crd-bundles.ts <release> [<folder>] | --dir <release>');
  const bundle = bundleOf(args[0]);
  const { dir, includes } = crdBundleFiles(bundle);
  const folder = args[1] ?? join(SHARED, dir);
  const files = readdirSync(folder).filter(includes).sort();
  if (files.length === 0) throw new Error(`no CRD files of ${bundle.project} ${bundle.version} in ${folder}`);
  return files.map((f) => join(folder, f)).join('\n');
}

try {
  process.stdout.write(`${main(process.argv.slice(2))}\n`);
} catch (e) {
  process.stderr.write(`crd-bundles: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
