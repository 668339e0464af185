/**
 * The shell scripts the backup CronJobs run. They are real files (charts/backup/scripts/*.sh), so
 * shellcheck and the tests run exactly what the pods run; synthesis reads them into one ConfigMap
 * that every backup pod mounts.
 */
import { join } from 'node:path';
import { Construct } from 'constructs';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { AppIdentity } from '../../environments/model/identity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { readScripts, repositoryRoot } from '../common/shipped-files';

/** The scripts' folder, relative to the repository root. */
export const SCRIPTS_FOLDER = 'charts/backup/scripts';
/** The library every script sources: shipped whenever a script is. */
export const SCRIPT_LIBRARY = 'lib.sh';
/** Where the pods mount the ConfigMap. */
export const SCRIPTS_MOUNT_PATH = '/opt/backup';

/** Absolute path of the scripts' folder. */
export function scriptsDirectory(): string {
  return join(repositoryRoot(), SCRIPTS_FOLDER);
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
  /** File names of the scripts the environment's jobs run; the library they source is added. */
  readonly scripts: readonly string[];
}

/**
 * The ConfigMap of the scripts. A changed script reaches the next run of every job without a
 * restart: each run is a new pod that mounts the current ConfigMap.
 */
export class BackupScripts extends Construct {
  constructor(scope: Construct, id: string, props: BackupScriptsProps) {
    super(scope, id);
    const { identity, name } = props;
    // Only what runs: an application without uploaded files ships no files backup.
    const wanted = new Set([SCRIPT_LIBRARY, ...props.scripts]);
    const shipped = readScripts(SCRIPTS_FOLDER);
    const missing = [...wanted].filter((s) => !Object.hasOwn(shipped, s));
    if (missing.length > 0) throw new Error(`no script ${missing.join(', ')} in ${SCRIPTS_FOLDER}`);
    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata: appMetadata(identity, { name, component: 'backup' }),
      data: Object.fromEntries(Object.entries(shipped).filter(([file]) => wanted.has(file))),
    }));
  }
}
