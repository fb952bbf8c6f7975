# Pinned versions of the end-to-end tools. Sourced by install.sh, paths.sh and
# gen-modules.sh. Changing a version here means: run ./gen-modules.sh, commit the
# regenerated go.mod/go.sum, then ./install.sh builds the new version into its own
# cache directory (old versions stay cached side by side).
KUBE_VERSION=v1.36.3    # k8s.io/kubernetes (every binary of KUBE_COMMANDS, one build)
ETCD_VERSION=v3.6.16    # go.etcd.io/etcd/server/v3 (etcd)
HELM_VERSION=v3.19.5    # helm.sh/helm/v3 (helm)
KIND_VERSION=v0.33.0    # sigs.k8s.io/kind (kind, and its node image's files)
COREDNS_VERSION=v1.14.2 # github.com/coredns/coredns (the kind cluster's DNS; kubeadm's pin)
KUBE_SCORE_VERSION=v1.20.0 # github.com/zegl/kube-score (an outside judge of the rendered chart)
CERT_MANAGER_VERSION=v1.19.5 # github.com/cert-manager/cert-manager (controller, cainjector, CRDs: chart's certManager mode)
METALLB_VERSION=v0.16.2 # go.universe.tf/metallb (its CRDs, compared with the chart's by scripts/crd-parity.sh)
# The Kubernetes binaries: kube-apiserver for the local control plane, all of them for
# the kind node image (e2e/kind/).
KUBE_COMMANDS="kube-apiserver kubectl kubelet kubeadm kube-controller-manager kube-scheduler kube-proxy"
