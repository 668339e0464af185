#!/usr/bin/env bash
# Regenerates imports/ (typed constructs for the CRDs no npm package ships) from the CRD schemas
# in ../shared/crds. The CRD files themselves never enter this repository; the generated code does.
# CloudNativePG's CRDs share one API group and so one generated file: they are imported together.
# imports/schemas/ holds each served version's JSON Schema and a precompiled strict validator of it
# (scripts/crd-schemas.mjs), which pipeline/schema-validation.ts checks those kinds with.
set -euo pipefail
cd "$(dirname "$0")/.."
crds=${CRDS_DIR:-../shared/crds}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$crds"/cloudnative-pg-*.yaml; do cat "$f"; printf '\n---\n'; done > "$tmp/cloudnative-pg.yaml"
rm -rf imports
npx --no-install cdk8s import "$tmp/cloudnative-pg.yaml" --language typescript --output imports
for f in "$crds"/plugin-barman-cloud-*.yaml; do
  npx --no-install cdk8s import "$f" --language typescript --output imports
done
node scripts/crd-schemas.mjs "$crds" imports/schemas
