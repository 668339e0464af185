/**
 * The shell scripts the backup CronJobs run. They are real files (charts/backup/scripts/*.sh), so
 * shellcheck and the tests run exactly what the pods run; synthesis reads them into one ConfigMap
 * that every backup pod mounts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Construct } from 'constructs';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { AppIdentity } from '../../environments/model/identity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';

/** The scripts' folder, relative to the repository root. */
export const SCRIPTS_FOLDER = 'charts/backup/scripts';
/** Where the pods mount the ConfigMap. */
export const SCRIPTS_MOUNT_PATH = '/opt/backup';

/**
 * The repository root, found from this module's own location. The module runs from different
 * places: charts/backup/ under jest and tsx, the repository root when `npm run synth` bundles
 * main.ts into one file there, bench/ in a benchmark's bundle. Walking up to the folder that holds
 * the scripts finds the root from any of them.
 */
export function repositoryRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SCRIPTS_FOLDER, 'lib.sh'))) return dir;
    if (dirname(dir) === dir) throw new Error(`shipshape: cannot find ${SCRIPTS_FOLDER} above ${start}`);
  }
}

/** Absolute path of the scripts' folder. */
export function scriptsDirectory(): string {
  return join(repositoryRoot(), SCRIPTS_FOLDER);
}

/** Every script by file name, in name order (the ConfigMap's keys, so the output is stable). */
export function readScripts(dir: string = scriptsDirectory()): Record<string, string> {
  const names = readdirSync(dir).filter((f) => f.endsWith('.sh')).sort();
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** The command that runs one of the scripts in a pod: bash, whatever the mounted file's mode. */
export function scriptCommand(script: string): string[] {
  return ['bash', `${SCRIPTS_MOUNT_PATH}/${script}`];
}

export interface BackupScriptsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The ConfigMap's name, which the jobs mount. */
  readonly name: string;
}

/**
 * The ConfigMap of the scripts. A changed script reaches the next run of every job without a
 * restart: each run is a new pod that mounts the current ConfigMap.
 */
export class BackupScripts extends Construct {
  constructor(scope: Construct, id: string, props: BackupScriptsProps) {
    super(scope, id);
    const { identity, name } = props;
    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata: appMetadata(identity, { name, component: 'backup' }),
      data: readScripts(),
    }));
  }
}
