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

/**
 * Redis 8.10.2, the official image (Debian trixie; the plain version tag is the Debian variant).
 * Confirmed: docker-library/official-images PR #22312 (merged 2026-09-21, "Redis security release
 * 2026-09-18") publishes 8.10.2; PR #21946 shows the 8.10 line's tag scheme (`8.10.0, 8.10,
 * 8.10.0-trixie`), and public repositories pull `redis:8.10.2`. The Dockerfile
 * (redis/docker-library-redis debian/Dockerfile) creates the redis user as UID/GID 999 and ships
 * /bin/sh (dash), coreutils `timeout`, `getent` and redis-cli, which the start script uses.
 * Our command replaces the image's entrypoint, so its bundled modules are not loaded: the
 * application uses Redis as a cache and session store, core commands only.
 * Digest: the tag's multi-platform index as docker-library/repo-info records it
 * (repos/redis/remote/8.10.2.md, the record with linux/riscv64 in the index; an earlier record of
 * the same build without it lists sha256:d5ac52db…), pinned alike by some ten unrelated public
 * projects (testcontainers constants, version tables). Not the linux/amd64 manifest
 * (sha256:7ef5b5ce…) that some pin by mistake.
 */
export const REDIS_IMAGE = 'docker.io/library/redis:8.10.2@sha256:6f81e8915c60b065a524e6967e0ad1c639ba6efa84d669f823683ea04d9150ee';

/** UID and GID of the redis user in REDIS_IMAGE. */
export const REDIS_IMAGE_UID = 999;

/**
 * redis_exporter v1.91.1 (v1.91.0 added redaction of Sentinel config in its output). Confirmed as
 * a Docker Hub tag by Renovate's "Update …/dockerhub/oliver006/redis_exporter Docker tag to
 * v1.91.1" (shaman007/home-k3s PR #738, merged 2026-09-08) and by repositories pinning
 * `docker.io/oliver006/redis_exporter:v1.91.1`. A static binary on scratch: it runs under any UID,
 * and has no shell, so its probes are HTTP (/health).
 * Digest: seen in one public GitOps repository's rendered manifests only (no second source was
 * found, unlike the other pins here): confirm it with `crane digest` or `docker buildx imagetools
 * inspect` when next upgrading.
 */
export const REDIS_EXPORTER_IMAGE =
  'docker.io/oliver006/redis_exporter:v1.91.1@sha256:c67a432dba6b4ae30f471e3c77cf14a289133bbeeb89abb0bb03e6092efb2836';

/**
 * restic 0.18.1, the restic project's own image (docker/Dockerfile.release: the official static
 * release binary at /usr/bin/restic on Alpine; no bash). Confirmed: the tag and the digest of its
 * Docker Hub index are pinned alike (`restic/restic:0.18.1@sha256:39d9072f…`) by several unrelated
 * public repositories (Dockerfiles, a Kubernetes restore Job, a Terraform default, and a kubelet
 * status fixture reporting exactly this image ID for `docker.io/restic/restic:0.18.1`), and the
 * restic documentation is published for v0.18.1. The backup pods only copy the binary out of it
 * (an init container) and run it from POSTGRES_IMAGE, whose bash the shipped scripts need.
 */
export const RESTIC_IMAGE =
  'docker.io/restic/restic:0.18.1@sha256:39d9072fb5651c80d75c7a811612eb60b4c06b32ffe87c2e9f3c7222e1797e76';

/** Where RESTIC_IMAGE keeps the binary. */
export const RESTIC_IMAGE_BINARY = '/usr/bin/restic';

/**
 * PgBouncer 1.25.1, the image CloudNativePG 1.30.0 runs for a Pooler when none is given
 * (pkg/versions/versions.go DefaultPgbouncerImage), pinned here so production names it by digest.
 * The operator does not publish the digest; this one is pinned alike by four unrelated public
 * projects (operator catalog tests among them) and no other digest of 1.25.1 appears anywhere;
 * cloudnative-pg/pgbouncer-containers builds `1.25.1` and `1.25.1-trixie` as one index and moved on
 * to 1.25.2, so the tag is no longer rebuilt.
 */
export const PGBOUNCER_IMAGE =
  'ghcr.io/cloudnative-pg/pgbouncer:1.25.1@sha256:e6ddfe22d845e603825e235dd8334b21ecd125abea2a2172478f556b8dee2bb8';

/** UID and GID CloudNativePG runs PgBouncer pods as (pkg/specs/pgbouncer/deployments.go). */
export const PGBOUNCER_UID = 998;
export const PGBOUNCER_GID = 996;

/**
 * curl 8.22.0, the curl project's official image (curl/curl-container: Alpine with BusyBox, curl at
 * /usr/bin/curl, `CURL_CA_BUNDLE=/cacert.pem`, the Mozilla CA bundle from curl.se). What the PostSync
 * smoke test runs (charts/app/smoke-test-job.ts), replacing the image's entrypoint with BusyBox sh.
 * Digest: the tag's multi-platform index, pinned alike by some ten unrelated public projects (an
 * operator's kind end-to-end Makefile with a Renovate annotation, a Go cluster test that calls it
 * "curl's official image, pinned (multi-arch index)", a database agent's installer, proxy and OIDC
 * smoke scripts, Dockerfiles of downloader stages); no other digest of curlimages/curl:8.22.0
 * appears. The newest tag public sources pin by digest (8.23.0 shows up only as an example in one
 * document). Confirm with `crane digest` when next upgrading.
 */
export const CURL_IMAGE =
  'docker.io/curlimages/curl:8.22.0@sha256:58adaa4e8dca9c988bae2aba4ab3434a0bb2da16bbe3f92dec39ec7785166777';

/** UID of curl_user in CURL_IMAGE (Alpine `adduser -S`: uid=100, gid=101, as public runs of `id` show). */
export const CURL_IMAGE_UID = 100;

/**
 * k6 1.7.1, Grafana's official image (grafana/k6: Alpine, the static k6 binary at /usr/bin/k6,
 * entrypoint `k6`). What the staging load test runs (charts/app/load-test-job.ts).
 * Digest: the tag's multi-platform index (linux/amd64 and linux/arm64), pinned alike by at least
 * three unrelated public projects: an API-gateway benchmark's load-test guide (with the
 * `docker buildx imagetools inspect` command that refreshes it), MockServer's performance-test
 * scripts, and a TypeScript load-profile runner's default image; no other digest of
 * grafana/k6:1.7.1 appears. Confirm with `crane digest` when next upgrading.
 */
export const K6_IMAGE =
  'docker.io/grafana/k6:1.7.1@sha256:4fd3a694926b064d3491d9b02b01cde886583c4931f1223816e3d9a7bdfa7e0f';

/**
 * UID of the k6 user in K6_IMAGE: grafana/k6's Dockerfile runs `adduser -D -u 12345 -g 12345 k6`
 * and `USER k6` (BusyBox's -g is the GECOS field; the user's own group gets the same number).
 */
export const K6_IMAGE_UID = 12345;

/**
 * blackbox_exporter v0.28.0 (2025-12-04), the newest release (prometheus/blackbox_exporter tag
 * v0.28.0, commit 5a059bee; nothing released after it to the repository's July 2026 snapshot), the
 * Prometheus project's own image: the static binary at /bin/blackbox_exporter on
 * quay.io/prometheus/busybox, which carries Debian's CA bundle at /etc/ssl/certs/ca-certificates.crt
 * (prometheus/busybox uclibc/Dockerfile), the system CAs the uptime checks verify against. The
 * Dockerfile sets no USER: the pod runs it as nobody (65534), which HTTP probes need nothing beyond.
 * What the uptime checks run (charts/observability/blackbox-exporter.ts).
 * Digest: the tag's multi-platform index, pinned alike under quay.io/prometheus/blackbox-exporter
 * and docker.io/prom/blackbox-exporter (the project pushes the same index to both) by some nine
 * unrelated public projects: a cluster's post-install verification script asserting the running
 * Deployment's image, a platform team's supply-chain record of the chart's image digest, image
 * policy checks in Python and Node test suites, Compose stacks and a Flux image automation log; no
 * other digest of v0.28.0 appears. Confirm with `crane digest` when next upgrading.
 */
export const BLACKBOX_EXPORTER_IMAGE =
  'quay.io/prometheus/blackbox-exporter:v0.28.0@sha256:e753ff9f3fc458d02cca5eddab5a77e1c175eee484a8925ac7d524f04366c2fc';
