# Provider "kind": a kind cluster where the chart (a later issue) runs the webhook as
# the Deployment bgpcomm-webhook in metallb-system. Not runnable without Docker; see
# e2e/kind/README.md.
provider_webhook_stop() {
  k -n metallb-system scale deployment/bgpcomm-webhook --replicas=0
  k -n metallb-system wait --for=delete pod -l app.kubernetes.io/name=bgpcomm-webhook --timeout=60s
}
# Extra flags become the container's args (replacing the chart's extra args).
provider_webhook_start() {
  if (( $# )); then
    local args
    args=$(printf '"%s",' "$@"); args="[${args%,}]"
    k -n metallb-system patch deployment/bgpcomm-webhook --type=json \
      -p "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/args\",\"value\":$args}]"
  fi
  k -n metallb-system scale deployment/bgpcomm-webhook --replicas=1
  k -n metallb-system rollout status deployment/bgpcomm-webhook --timeout=120s
}
