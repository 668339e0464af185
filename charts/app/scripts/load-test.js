// The staging load test Argo CD runs after every sync (a PostSync hook Job, charts/app/load-test-job.ts):
// k6 asks the public hosts at a constant arrival rate, the rate the expected users ask at whatever
// the answers' speed (a slow release does not get an easier test, as it would from VUs that wait),
// and judges the run by the SLO's thresholds. A missed threshold makes k6 exit 99, which fails the
// hook, so the sync.
//
// Settings: the JSON file LOAD_TEST_CONFIG names (generated from the configuration):
//   targets            the URLs asked, in turn (every host's paths, https only)
//   requestsPerSecond  iterations started a second, one request each
//   virtualUsers       the VUs k6 keeps to start them (preAllocatedVUs and maxVUs: a fixed pool,
//                      so the pod's memory is what it was sized for; a pool too small shows as
//                      dropped_iterations)
//   duration, gracefulStop, requestTimeout   k6 durations
//   thresholds         k6 thresholds, derived from the SLO (loadTestThresholds)
//
// What counts as failed is what the availability SLO counts: a 5xx or no answer. 4xx is the
// application answering (a login wall, an api's root), as the smoke test sees it.
/* global __ENV, open -- k6's globals: the environment, and reading a file in the init context */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';

const path = __ENV.LOAD_TEST_CONFIG;
if (!path) throw new Error('LOAD_TEST_CONFIG is not set');
const config = JSON.parse(open(path));
if (!Array.isArray(config.targets) || config.targets.length === 0) throw new Error(`${path} names no target`);

http.setResponseCallback(http.expectedStatuses({ min: 100, max: 499 }));

export const options = {
  scenarios: {
    expected_users: {
      executor: 'constant-arrival-rate',
      rate: config.requestsPerSecond,
      timeUnit: '1s',
      duration: config.duration,
      preAllocatedVUs: config.virtualUsers,
      maxVUs: config.virtualUsers,
      gracefulStop: config.gracefulStop,
    },
  },
  thresholds: config.thresholds,
  // The percentiles the thresholds name, in the summary too.
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  userAgent: 'shipshape-load-test',
};

export default function () {
  const target = config.targets[exec.scenario.iterationInTest % config.targets.length];
  const res = http.get(target, { timeout: config.requestTimeout, redirects: 0, tags: { name: target } });
  check(res, { 'status below 500': (r) => r.status > 0 && r.status < 500 });
}
