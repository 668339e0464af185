import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../../environments/schema';
import { PostgresBackups } from './postgres-backups';
import { PostgresCluster } from './postgres-cluster';
import { PostgresNetworkPolicies } from './postgres-network-policies';
import { PostgresPooler } from './postgres-pooler';
import { RedisSentinel } from './redis-sentinel';
import { UploadsVolume } from './uploads-volume';

export interface DataChartProps {
  readonly env: Environment;
}

/** The application's state: PostgreSQL, Redis and the uploaded files. */
export class DataChart extends Chart {
  constructor(scope: Construct, id: string, props: DataChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const { env } = props;
    new PostgresCluster(this, 'postgres', { env });
    new PostgresBackups(this, 'postgres-backups', { env });
    new PostgresPooler(this, 'postgres-pooler', { env });
    new PostgresNetworkPolicies(this, 'postgres-network-policies', { env });
    new RedisSentinel(this, 'redis', { env });
    new UploadsVolume(this, 'uploads', { env });
  }
}
