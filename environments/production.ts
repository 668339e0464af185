import { defineEnvironment } from './define';

export const production = defineEnvironment({
  name: 'production',
  production: true,
  app: { namespace: 'student-portal' },
  tls: { issuer: 'letsencrypt-production' },
  // Two years, subdomains included: eligible for the browsers' HSTS preload list.
  hsts: { maxAgeSeconds: 63072000, includeSubDomains: true, preload: true },
  // EXAMPLE domain: replace with the application's public host names.
  hosts: [
    { hostname: 'portal.university.example', routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }] },
  ],
  services: {
    web: { autoscaling: { minReplicas: 3, maxReplicas: 10 } },
    api: { autoscaling: { minReplicas: 3, maxReplicas: 12 } },
  },
  workers: {
    documents: { autoscaling: { minReplicas: 2, maxReplicas: 6 } },
  },
  data: {
    postgres: {
      instances: 3,
      storage: { size: '100Gi', storageClass: 'ssd-retain' },
      walStorage: { size: '20Gi', storageClass: 'ssd-retain' },
      resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } },
    },
    redis: {
      storage: { size: '10Gi', storageClass: 'ssd-retain' },
      resources: { requests: { cpu: '250m', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
    },
    uploads: { storage: { size: '200Gi', storageClass: 'nfs-retain' } },
  },
  // EXAMPLE endpoint and bucket: replace with the object storage of your backups.
  objectStorage: { endpointURL: 'https://s3.university.example', bucket: 'student-portal-backups-production', region: 'eu-central-1' },
  // Students and staff use the portal every evening and weekend: six hours without one audited
  // read means the audit trail is broken (AuditEventsSilent).
  logging: { audit: { silentAfter: '6h' } },
  externalSecrets: { keyPrefix: 'student-portal/production' },
  alerting: {
    pagerduty: { secretName: 'alertmanager-pagerduty' },
    slack: { secretName: 'alertmanager-slack', channel: '#student-portal-alerts' },
    // EXAMPLE addresses, mail server and user: replace with the on-call team's list and your mail
    // relay's. The password is the entry's `password` property in the secret manager.
    email: {
      to: 'portal-oncall@university.example',
      from: 'alertmanager@university.example',
      smarthost: 'smtp.university.example:587',
      username: 'student-portal-alerts',
      secretName: 'alertmanager-smtp',
    },
    // The URL the Watchdog calls (a dead man's switch service), in the entry's `url` property.
    deadMansSwitch: { secretName: 'alertmanager-dead-mans-switch' },
  },
  delivery: {
    // EXAMPLE dates: replace with the university's examination calendar. Nothing reaches production
    // by itself while students sit exams; an emergency fix is still synced by hand.
    syncFreezes: [
      { description: 'Fall final examinations', schedule: '0 0 8 12 *', duration: '288h', timeZone: 'America/New_York', manualSync: true },
      { description: 'Spring final examinations', schedule: '0 0 1 5 *', duration: '288h', timeZone: 'America/New_York', manualSync: true },
    ],
  },
  platform: {
    prometheus: { retention: '30d', retentionSize: '90GB', storage: { size: '100Gi', storageClass: 'ssd-retain' } },
  },
});
