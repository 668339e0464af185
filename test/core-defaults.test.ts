/**
 * The API server's defaults inside the list items of Kubernetes' own kinds (pipeline/core-defaults.ts,
 * a hand-written copy of k8s.io/kubernetes' defaulter functions): each family on small objects, then
 * the gate refusing a construct that leaves one to the API server, and the real outputs passing.
 */
import type { Chart } from 'cdk8s';
import { AppChart } from '../charts/app/app-chart';
import { DataChart } from '../charts/data/data-chart';
import { SecurityChart } from '../charts/security/security-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { applyCoreListDefaults } from '../pipeline/core-defaults';
import { coreDefaultsChanges, groupOf, KUBERNETES_GROUPS } from '../pipeline/crd-defaults';
import type { K8sObject } from '../pipeline/k8s-object';
import { everyObject, problemsWith } from './support/gate';
import { REPO } from './support/repository-copy';
import { only } from './support/synth-construct';

const defaulted = (object: K8sObject): K8sObject => {
  const copy = structuredClone(object);
  applyCoreListDefaults(copy);
  return copy;
};
const deployment = (podSpec: K8sObject): K8sObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: podSpec } } });
const podSpecOf = (object: K8sObject) => object.spec.template.spec;

describe('containers', () => {
  const container = (fields: K8sObject) => podSpecOf(defaulted(deployment({ containers: [{ name: 'c', ...fields }] }))).containers[0];

  test('the pull policy follows the tag: Always for latest or none, IfNotPresent for a tag or a digest', () => {
    expect(container({ image: 'api' }).imagePullPolicy).toBe('Always');
    expect(container({ image: 'api:latest' }).imagePullPolicy).toBe('Always');
    expect(container({ image: 'registry.internal:5000/team/api' }).imagePullPolicy).toBe('Always');
    expect(container({ image: 'registry.internal:5000/team/api:1.4.2' }).imagePullPolicy).toBe('IfNotPresent');
    expect(container({ image: `api@sha256:${'a'.repeat(64)}` }).imagePullPolicy).toBe('IfNotPresent');
    expect(container({ image: 'api:latest', imagePullPolicy: 'IfNotPresent' }).imagePullPolicy).toBe('IfNotPresent');
  });

  test('termination message, port protocol, the field reference\'s version, every probe and HTTP hook', () => {
    expect(container({
      image: 'api:1',
      ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }],
      env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'A', value: '1' }],
      livenessProbe: { httpGet: { port: 8080 } },
      readinessProbe: { grpc: { port: 9090 }, timeoutSeconds: 0, periodSeconds: 5 },
      startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
      lifecycle: { preStop: { httpGet: { port: 8080, path: '/drain' } }, postStart: { sleep: { seconds: 1 } } },
    })).toEqual({
      name: 'c',
      image: 'api:1',
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }],
      env: [{ name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }, { name: 'A', value: '1' }],
      livenessProbe: { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      // A written 0 is Go's zero value: stored as the default.
      readinessProbe: { grpc: { port: 9090, service: '' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
      startupProbe: { exec: { command: ['true'] }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 30 },
      lifecycle: { preStop: { httpGet: { port: 8080, path: '/drain', scheme: 'HTTP' } }, postStart: { sleep: { seconds: 1 } } },
    });
  });

  test('init containers alike; requests from limits in a Pod only, not in a template', () => {
    const spec = { initContainers: [{ name: 'i', image: 'x:1', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } } }], containers: [] };
    const pod = defaulted({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: structuredClone(spec) });
    expect(pod.spec.initContainers[0]).toMatchObject({ terminationMessagePolicy: 'File', resources: { requests: { cpu: '100m', memory: '1Gi' } } });
    expect(podSpecOf(defaulted(deployment(structuredClone(spec)))).initContainers[0].resources).toEqual(spec.initContainers[0].resources);
  });

  test('a CronJob\'s pod template is found under its job template', () => {
    const cronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'j' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } } } } };
    expect(coreDefaultsChanges(cronJob)).toEqual([
      '/spec/jobTemplate/spec/template/spec/containers/0/imagePullPolicy: the API server would set "IfNotPresent" (Kubernetes\' default of CronJob); write it out, so that dist/ holds what the cluster stores',
      '/spec/jobTemplate/spec/template/spec/containers/0/terminationMessagePath: the API server would set "/dev/termination-log" (Kubernetes\' default of CronJob); write it out, so that dist/ holds what the cluster stores',
      '/spec/jobTemplate/spec/template/spec/containers/0/terminationMessagePolicy: the API server would set "File" (Kubernetes\' default of CronJob); write it out, so that dist/ holds what the cluster stores',
    ]);
  });
});

describe('volumes', () => {
  test('file modes, a source-less volume, hostPath type, field references, token lifetime, an ephemeral claim\'s volume mode', () => {
    const volumes = podSpecOf(defaulted(deployment({
      containers: [],
      volumes: [
        { name: 'none' },
        { name: 'cm', configMap: { name: 'x' } },
        { name: 'secret', secret: { secretName: 'x', defaultMode: 0o400 } },
        { name: 'host', hostPath: { path: '/var/log' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 't' } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } },
      ],
    }))).volumes;
    expect(volumes).toEqual([
      { name: 'none', emptyDir: {} },
      { name: 'cm', configMap: { name: 'x', defaultMode: 0o644 } },
      { name: 'secret', secret: { secretName: 'x', defaultMode: 0o400 } },
      { name: 'host', hostPath: { path: '/var/log', type: '' } },
      { name: 'info', downwardAPI: { defaultMode: 0o644, items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] } },
      {
        name: 'token',
        projected: {
          defaultMode: 0o644,
          sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3600 } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } }] } }],
        },
      },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' } } } },
    ]);
  });

  test('a StatefulSet\'s claim templates get their volume mode, not a status', () => {
    const sts = defaulted({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] } });
    expect(sts.spec.volumeClaimTemplates).toEqual([{ metadata: { name: 'data' }, spec: { volumeMode: 'Filesystem' } }]);
  });
});

describe('Services, NetworkPolicies, HPAs', () => {
  test('a Service port\'s protocol, and its target port from the port', () => {
    const service = defaulted({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }] } });
    expect(service.spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }]);
  });

  test('a NetworkPolicy port\'s protocol in both directions, and the policy types it implies', () => {
    const policy = (spec: K8sObject) => defaulted({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' }, spec }).spec;
    expect(policy({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] }] })).toEqual({
      podSelector: {},
      ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }],
      egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }],
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(policy({ podSelector: {} }).policyTypes).toEqual(['Ingress']);
    expect(policy({ podSelector: {}, policyTypes: ['Egress'] }).policyTypes).toEqual(['Egress']);
  });

  test('an autoscaling/v2 HPA\'s written behavior is completed in both directions; without one, nothing', () => {
    const hpa = (spec: K8sObject) => defaulted({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec }).spec;
    expect(hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 600 } } }).behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
      },
      // The scale-down window is the controller's flag, never defaulted into the object.
      scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    expect(hpa({ maxReplicas: 3 })).toEqual({ maxReplicas: 3 });
  });

  test('custom resources and kinds with no list defaults are left alone', () => {
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ backendRefs: [{ name: 'x' }] }] } };
    expect(defaulted(route)).toEqual(route);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
    expect(coreDefaultsChanges(role)).toEqual([]);
  });
});

const envs = resolveEnvironments(environments, REPO);
const staging = envs.find((e) => e.name === 'staging')!;
const stagingWith = (chart: { prototype: Chart }, change: (objects: K8sObject[]) => void) => problemsWith(staging, chart, change);
const line = (ref: string, path: string, value: string, kind: string) =>
  `${ref}: defaults: ${path}: the API server would set ${value} (Kubernetes' default of ${kind}); write it out, so that dist/ holds what the cluster stores`;

describe('the gate', () => {
  test.each(envs.map((e) => [e.name, e] as const))('%s: the Kubernetes objects of dist/ and argocd/ already hold these defaults', (_name, env) => {
    const core = everyObject(env).filter((o) => KUBERNETES_GROUPS.has(groupOf(o.apiVersion)));
    // Not vacuous: every family above is in the output.
    expect([...new Set(core.map((o) => o.kind))]).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'CronJob', 'Job', 'Service', 'NetworkPolicy', 'HorizontalPodAutoscaler']));
    expect(core.flatMap((o) => coreDefaultsChanges(o).map((l) => `${o.kind} ${o.metadata.name}: ${l}`))).toEqual([]);
  });

  test('a container without its termination message path, a field reference without its version', async () => {
    const problems = await stagingWith(DataChart, (objects) => {
      const container = only(objects, 'StatefulSet', 'student-portal-redis').spec.template.spec.containers[0];
      delete container.terminationMessagePath;
      delete container.env.find((e: K8sObject) => e.valueFrom?.fieldRef).valueFrom.fieldRef.apiVersion;
    });
    const ref = 'staging: StatefulSet student-portal-staging/student-portal-redis';
    expect(problems).toEqual([
      line(ref, '/spec/template/spec/containers/0/env/0/valueFrom/fieldRef/apiVersion', '"v1"', 'StatefulSet'),
      line(ref, '/spec/template/spec/containers/0/terminationMessagePath', '"/dev/termination-log"', 'StatefulSet'),
    ]);
  });

  test('a claim template without its volume mode', async () => {
    const problems = await stagingWith(DataChart, (objects) => {
      delete only(objects, 'StatefulSet', 'student-portal-redis').spec.volumeClaimTemplates[0].spec.volumeMode;
    });
    expect(problems).toEqual([
      line('staging: StatefulSet student-portal-staging/student-portal-redis', '/spec/volumeClaimTemplates/0/spec/volumeMode', '"Filesystem"', 'StatefulSet'),
    ]);
  });

  test('a Deployment\'s probe without its thresholds, a Service port without its protocol', async () => {
    const problems = await stagingWith(AppChart, (objects) => {
      delete only(objects, 'Deployment', 'api').spec.template.spec.containers[0].readinessProbe.failureThreshold;
      delete only(objects, 'Service', 'api').spec.ports[0].protocol;
    });
    expect(problems).toEqual([
      line('staging: Deployment student-portal-staging/api', '/spec/template/spec/containers/0/readinessProbe/failureThreshold', '3', 'Deployment'),
      line('staging: Service student-portal-staging/api', '/spec/ports/0/protocol', '"TCP"', 'Service'),
    ]);
  });

  test('a NetworkPolicy port without its protocol', async () => {
    let name = '';
    const problems = await stagingWith(SecurityChart, (objects) => {
      const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.spec.egress?.some((r: K8sObject) => r.ports?.length))!;
      name = policy.metadata.name;
      const rule = policy.spec.egress.findIndex((r: K8sObject) => r.ports?.length);
      delete policy.spec.egress[rule].ports[0].protocol;
      name = `${name}@${rule}`;
    });
    const [policyName, rule] = name.split('@');
    expect(problems).toEqual([
      line(`staging: NetworkPolicy student-portal-staging/${policyName}`, `/spec/egress/${rule}/ports/0/protocol`, '"TCP"', 'NetworkPolicy'),
    ]);
  });
});
