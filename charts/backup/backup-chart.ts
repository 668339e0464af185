import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';

export interface BackupChartProps {
  readonly env: Environment;
}

/** Logical backups of the database and the uploaded files, and the proof that they restore. */
export class BackupChart extends Chart {
  constructor(scope: Construct, id: string, props: BackupChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    void props;
  }
}
