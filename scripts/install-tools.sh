#!/usr/bin/env bash
# Chart and CI tooling at the versions pinned in scripts/versions.env: helm, kubeconform, kube-score
# and actionlint, built once with `go install` into the tool cache, and kubeconform's JSON schemas
# for KUBERNETES_VERSION under ${MLSTACK_CACHE}/kube-schemas. Idempotent; quick when the cache is warm.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_binaries() {
  go_install helm helm.sh/helm/v3/cmd/helm "${HELM_VERSION}"
  go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "${KUBECONFORM_VERSION}"
  go_install kube-score github.com/zegl/kube-score/cmd/kube-score "${KUBE_SCORE_VERSION}"
  go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "${ACTIONLINT_VERSION}"
}

# kubeconform cannot download schemas here: convert the pinned Kubernetes release's OpenAPI document
# (from the k8s.io/kubernetes module zip) into standalone-strict JSON schemas, once per version.
install_schemas() {
  local dest="${MLSTACK_CACHE}/kube-schemas/${KUBERNETES_VERSION}-standalone-strict"
  [ -f "${dest}/.complete" ] && return 0
  log "generating Kubernetes ${KUBERNETES_VERSION} JSON schemas"
  local dir
  dir="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  rm -rf "${dest}"
  python3 "${REPO_ROOT}/scripts/gen-kube-schemas.py" "${dir}/api/openapi-spec/swagger.json" "${dest}"
  touch "${dest}/.complete"
}

main() {
  cd "${REPO_ROOT}" || exit
  install_binaries
  install_schemas
}

main "$@"
