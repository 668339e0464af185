/** PostgreSQL facts that the configuration's rules and the Cluster's parameters share. */

/** Connections the server accepts: PgBouncer multiplexes the application's onto far fewer. */
export const MAX_CONNECTIONS = 200;
