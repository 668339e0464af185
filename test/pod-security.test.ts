/**
 * The one definition of Pod Security Standards `restricted` every workload uses: each field is there
 * for a reason a reviewer would ask about, so each is asserted.
 */
import { podSecurityLabels, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../charts/common/pod-security';

test('the pod runs as the given non-root user and group, with the RuntimeDefault seccomp profile', () => {
  expect(restrictedPodSecurityContext(10001)).toEqual({
    runAsNonRoot: true,
    runAsUser: 10001,
    runAsGroup: 10001,
    fsGroup: 10001,
    // Without it the kubelet chowns every file of a large volume at every start.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  });
});

test('containers drop every capability, cannot escalate and write nowhere but their volumes', () => {
  expect(restrictedContainerSecurityContext()).toEqual({
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
});

test('each call is a new object: a construct that adjusts its copy changes no other workload', () => {
  const a = restrictedPodSecurityContext(1000);
  delete a.fsGroup;
  expect(restrictedPodSecurityContext(1000).fsGroup).toBe(1000);
  const c = restrictedContainerSecurityContext();
  c.capabilities!.drop!.push('NET_RAW');
  expect(restrictedContainerSecurityContext().capabilities).toEqual({ drop: ['ALL'] });
});

test('the namespace enforces, audits and warns on restricted, pinned to the cluster\'s minor version', () => {
  expect(podSecurityLabels('1.31')).toEqual({
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'v1.31',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': 'v1.31',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'v1.31',
  });
});
