# Pinned versions of the end-to-end tools. Sourced by install.sh, paths.sh and
# gen-modules.sh. Changing a version here means: run ./gen-modules.sh, commit the
# regenerated go.mod/go.sum, then ./install.sh builds the new version into its own
# cache directory (old versions stay cached side by side).
KUBE_VERSION=v1.36.3    # k8s.io/kubernetes (kube-apiserver)
ETCD_VERSION=v3.6.16    # go.etcd.io/etcd/server/v3 (etcd)
HELM_VERSION=v3.19.5    # helm.sh/helm/v3 (helm)
