/**
 * Third-party images, each at an exact version that exists upstream and, where the publisher's
 * own catalog gives one, its digest. One place, so an upgrade is one reviewed line; the comment on
 * each says where the version was confirmed.
 */

/**
 * PostgreSQL 17 operand image of CloudNativePG, from the project's official ClusterImageCatalog
 * (postgres-containers, Debian/ClusterImageCatalog-bookworm.yaml, catalog date 2026-02-26). Also
 * what the backup jobs run pg_dump, pg_restore and the throwaway verification server from, so the
 * client tools always match the server's major version. Runs as UID 26 (postgres).
 */
export const POSTGRES_IMAGE =
  'ghcr.io/cloudnative-pg/postgresql:17.9-202602261636-system-bookworm@sha256:9b98bb640afb610dab530b9afab07bdd0527df1c4e1045cf0a0c07a3db6428f4';

/** UID and GID of the postgres user in POSTGRES_IMAGE. */
export const POSTGRES_IMAGE_UID = 26;
