import { defineEnvironment } from './define';

export const staging = defineEnvironment({
  name: 'staging',
  production: false,
  app: { namespace: 'student-portal-staging' },
  tls: { issuer: 'letsencrypt-staging' },
  // Short and without preload: a staging mistake must not pin browsers to HTTPS for years.
  hsts: { maxAgeSeconds: 86400, includeSubDomains: false, preload: false },
  // EXAMPLE domain: replace with the application's staging host names.
  hosts: [
    { hostname: 'portal.staging.university.example', routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }] },
  ],
  services: {
    web: { autoscaling: { minReplicas: 2, maxReplicas: 4 } },
    api: { autoscaling: { minReplicas: 2, maxReplicas: 4 } },
  },
  workers: {
    documents: { autoscaling: { minReplicas: 2, maxReplicas: 3 } },
  },
  data: {
    postgres: {
      // Same shape as production (a synchronous standby with one to spare), smaller instances.
      instances: 3,
      storage: { size: '20Gi', storageClass: 'ssd' },
      walStorage: { size: '5Gi', storageClass: 'ssd' },
      resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
    },
    redis: {
      storage: { size: '2Gi', storageClass: 'ssd' },
      resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    },
    uploads: { storage: { size: '20Gi', storageClass: 'nfs' } },
  },
  // EXAMPLE endpoint and bucket: replace with the object storage of your backups.
  objectStorage: { endpointURL: 'https://s3.university.example', bucket: 'student-portal-backups-staging', region: 'eu-central-1' },
  externalSecrets: { keyPrefix: 'student-portal/staging' },
  // Staging never pages (PagerDuty is refused outside production): every alert goes to its channel.
  // No dead man's switch: a stopped staging pipeline waits for someone to look.
  alerting: {
    slack: { secretName: 'alertmanager-slack', channel: '#student-portal-staging' },
  },
  // After every sync: the routed paths at 20 requests a second for 5 minutes, judged by the SLO
  // (docs/admin-guide.md, "Sizing the staging load test": staging's share of registration day's
  // peak, for its 2 to 4 replicas). 20 VUs keep the rate with answers as slow as 1 s, twice the SLO's 0.5 s.
  loadTest: { requestsPerSecond: 20, virtualUsers: 20, duration: '5m' },
  // EXAMPLE host name: replace with the one staging's Argo CD is reached at.
  delivery: { argocdHost: 'argocd.staging.university.example' },
});
