/**
 * Every container's termination message: the file Kubernetes reads (its default path, written out
 * as the API server would store it; pipeline/core-defaults.ts), or the tail of the log when the
 * process wrote none, so a crash or a failed Job shows its last words in the pod's status.
 */
export const TERMINATION_MESSAGE = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'FallbackToLogsOnError',
} as const;
