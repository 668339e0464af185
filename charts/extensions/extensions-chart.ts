/**
 * The user's own constructs (environments/extension.ts): each extension builds into a scope of
 * its own name here, in the application's namespace, and what it makes is written to
 * dist/<env>/extensions/ after the same gate as everything else (pipeline/synth.ts).
 */
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { ExtensionContext } from '../../environments/extension';
import { ConfigError } from '../../environments/load';
import { injectedEnv } from '../../environments/model/injected-env';
import type { Model } from '../../environments/model/model';

export interface ExtensionsChartProps {
  /** The environment's model: its extensions, identity and data endpoints. */
  readonly model: Model;
}

export class ExtensionsChart extends Chart {
  constructor(scope: Construct, id: string, props: ExtensionsChartProps) {
    const { env, identity, data, priorityClasses } = props.model;
    // Objects that name no namespace are the application's.
    super(scope, id, { disableResourceNameHashes: true, namespace: identity.namespace });
    const context: ExtensionContext = {
      identity,
      environment: env.name,
      production: env.production,
      injectedEnv: (uses) => injectedEnv(data, uses),
      priorityClasses,
      zoneSpread: env.zoneSpread,
      ...(data.uploads ? { uploads: { claimName: data.uploads.claim, mountPath: data.uploads.mountPath } } : {}),
    };
    this.envName = env.name;
    for (const extension of env.extensions) {
      const own = new Construct(this, extension.name);
      try {
        extension.build(own, context);
      } catch (e) {
        // The user's code: its message, never a stack trace.
        throw new ConfigError([`${env.name}: extensions (${extension.name}): its build failed: ${(e as Error).message}`]);
      }
    }
  }

  private readonly envName: string;

  /**
   * cdk8s-plus checks much of its input, and JSON patches apply, only when the objects render:
   * a failure there names the construct, never a stack trace.
   */
  override toJson(): any[] {
    for (const object of this.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
      try {
        object.toJson();
      } catch (e) {
        const [, extension] = object.node.path.split('/');
        // cdk8s wraps the cause in where it was serializing, which the message says already.
        const cause = (e as Error).message.split('\n')[0].replace(/^Failed serializing construct at path '[^']*' with name '[^']*': (Error: )?/, '');
        throw new ConfigError([`${this.envName}: extensions (${extension}): ${object.node.path} cannot be rendered: ${cause}`]);
      }
    }
    return super.toJson();
  }
}
