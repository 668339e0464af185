/**
 * The resolved model of one environment, computed once from its validated configuration: who the
 * objects belong to, what the data tier is called, and who may talk to whom. Charts take it whole
 * (they are where configuration meets constructs); constructs take only the parts they use.
 */
import type { Environment } from '../schema';
import { deliveryModel, type DeliveryModel } from './delivery';
import { networkModel, type NetworkModel } from './flows';
import { appIdentity, type AppIdentity } from './identity';
import { dataEndpoints, priorityClassNames, type DataEndpoints, type PriorityClassNames } from './names';

export interface Model {
  /** The validated configuration. */
  readonly env: Environment;
  readonly identity: AppIdentity;
  readonly data: DataEndpoints;
  readonly network: NetworkModel;
  readonly priorityClasses: PriorityClassNames;
  readonly delivery: DeliveryModel;
}

export function buildModel(env: Environment): Model {
  const data = dataEndpoints(env);
  return { env, identity: appIdentity(env), data, network: networkModel(env, data), priorityClasses: priorityClassNames(env), delivery: deliveryModel(env) };
}
