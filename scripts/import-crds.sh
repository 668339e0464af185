#!/usr/bin/env bash
# Regenerates imports/ (typed constructs for the CRDs no npm package ships) from the CRD schemas
# in ../shared/crds, and imports/schemas/ from those and Argo CD's (../shared/platform-crds). The CRD files themselves never enter this repository; the generated code does.
# Which files: the CRD bundles charts/gitops/platform-releases.ts names for the versions it pins
# (scripts/crd-bundles.ts reads them from there); CRDS_DIR and ARGOCD_CRDS_DIR name other folders.
# CloudNativePG's CRDs share one API group and so one generated file: they are imported together.
# imports/schemas/ holds each served version's JSON Schema and a precompiled strict validator of it
# (scripts/crd-schemas.mjs), which pipeline/schema-validation.ts checks those kinds with.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle() { node --import tsx scripts/crd-bundles.ts "$@"; }
files=$(bundle cloudnative-pg ${CRDS_DIR:+"$CRDS_DIR"})
mapfile -t cnpg <<<"$files"
files=$(bundle plugin-barman-cloud ${CRDS_DIR:+"$CRDS_DIR"})
mapfile -t barman <<<"$files"
argocd_crds=${ARGOCD_CRDS_DIR:-$(bundle --dir argo-cd)}
tmp=$(mktemp -d)
# `cdk8s import` of a file appends it to cdk8s.yaml's imports; that list names the upstream
# releases instead (see the comment there), so it is put back as it was, whatever happens.
cp cdk8s.yaml "$tmp/cdk8s.yaml"
trap 'cp "$tmp/cdk8s.yaml" cdk8s.yaml; rm -rf "$tmp"' EXIT

for f in "${cnpg[@]}"; do cat "$f"; printf '\n---\n'; done > "$tmp/cloudnative-pg.yaml"
rm -rf imports
npx --no-install cdk8s import "$tmp/cloudnative-pg.yaml" --language typescript --output imports
for f in "${barman[@]}"; do
  npx --no-install cdk8s import "$f" --language typescript --output imports
done
# Argo CD's Application and AppProject are checked against their CRDs too: the schemas that
# @kubernetes-models/argo-cd ships lost every field named `description` (a project's, a role's, a
# sync window's), which the strict gate would then refuse. The table's Argo CD CRDs: the newest at hand.
mkdir "$tmp/schemas"
cp "${cnpg[@]}" "${barman[@]}" "$tmp/schemas/"
cp "$argocd_crds/application-crd.yaml" "$argocd_crds/appproject-crd.yaml" "$tmp/schemas/"
node scripts/crd-schemas.mjs "$tmp/schemas" imports/schemas
# imports/defaults/ holds what the gate's structural defaulting reads (pipeline/crd-defaults.ts) of every
# custom kind we may emit, from all the table's bundles (SHARED_DIR, not CRDS_DIR, names another ../shared).
node --import tsx scripts/crd-defaults.ts imports/defaults
# imports/validations/ holds the CEL rules of the same kinds' CRDs and what evaluating them reads
# (pipeline/cel-gate.ts), from the same bundles.
node --import tsx scripts/crd-validations.ts imports/validations
