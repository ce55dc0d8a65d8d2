#!/usr/bin/env bash
# Chart tooling at the versions pinned in scripts/versions.env: helm, kubeconform and kube-score,
# built once with `go install` into the tool cache. Idempotent; quick when the cache is warm.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install_binaries() {
  go_install helm helm.sh/helm/v3/cmd/helm "${HELM_VERSION}"
  go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "${KUBECONFORM_VERSION}"
  go_install kube-score github.com/zegl/kube-score/cmd/kube-score "${KUBE_SCORE_VERSION}"
}

main() {
  cd "${REPO_ROOT}" || exit
  install_binaries
}

main "$@"
