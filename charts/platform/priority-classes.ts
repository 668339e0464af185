/**
 * Scheduling priorities of the application's pods: what serves users (the services, PostgreSQL,
 * PgBouncer, Redis) above the batch jobs (backups). When a node runs short, the kubelet evicts
 * and the scheduler preempts lower priorities first, so a backup gives way before the database or
 * the api, never the other way round. Both stay below the system's classes (2000000000 and up),
 * and neither is the cluster's default. No `description`: kubernetes-models' schemas, which the
 * strict validation reads, lost that field of PriorityClass (it shares its name with the
 * schemas' own description keyword), and the names say what each class is for.
 */
import { Construct } from 'constructs';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import type { AppIdentity } from '../../environments/model/identity';
import type { PriorityClassNames } from '../../environments/model/names';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';

/** The values: far apart, far below the system's, above the default 0 of everything else. */
export const PRIORITY_VALUES = { serving: 100000, batch: 10000 } as const;

export interface PriorityClassesProps {
  readonly identity: AppIdentity;
  /** The classes' names (cluster-scoped, so prefixed with the application's name). */
  readonly names: PriorityClassNames;
}

export class PriorityClasses extends Construct {
  constructor(scope: Construct, id: string, props: PriorityClassesProps) {
    super(scope, id);
    const { identity, names } = props;
    // A backup waits for room rather than pushing anything else off a node.
    const preemption = { serving: 'PreemptLowerPriority', batch: 'Never' } as const;
    for (const use of ['serving', 'batch'] as const) {
      new ModelObject(this, use, new PriorityClass({
        metadata: { name: names[use], labels: recommendedLabels(identity, 'priority', 'scheduling') },
        value: PRIORITY_VALUES[use],
        globalDefault: false,
        preemptionPolicy: preemption[use],
      }));
    }
  }
}
