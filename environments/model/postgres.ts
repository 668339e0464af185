/** PostgreSQL facts that the configuration's rules and the Cluster's parameters share. */

/**
 * Longest Cluster name CloudNativePG's admission webhook accepts (it also requires a DNS-1035 label):
 * cloudnative-pg internal/webhook/v1/cluster_webhook.go, validateName.
 */
export const MAX_CLUSTER_NAME = 50;

/** Connections the server accepts: PgBouncer multiplexes the application's onto far fewer. */
export const MAX_CONNECTIONS = 200;
