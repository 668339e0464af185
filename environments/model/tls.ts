/**
 * What the hosts' certificates are to their clients, from the environment's ClusterIssuer.
 */
import type { Environment } from '../schema';

/**
 * Whether a ClusterIssuer's certificates are trusted by visitors' clients, and so by the checks
 * that ask the hosts as visitors do (the smoke test, the uptime probes): Let's Encrypt's staging
 * environment signs with roots no trust store holds.
 */
export const PUBLICLY_TRUSTED_ISSUER: Readonly<Record<Environment['tls']['issuer'], boolean>> = {
  'letsencrypt-production': true,
  'letsencrypt-staging': false,
};
