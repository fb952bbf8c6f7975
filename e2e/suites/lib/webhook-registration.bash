# Sourced by suites that store objects the webhook never judged (helpers.bash first):
#   save_webhook        keeps the cluster webhook's two configurations as registered (with
#                       their caBundle) in the file's tmpdir (call it in setup_file)
#   unregister_webhook  deletes both configurations and stops the webhook: what is stored
#                       now was never judged (no resolution annotation)
#   restore_webhook     puts them back and starts the webhook again
#   webhook_registered  true while the validating configuration exists
WEBHOOK_CONFIGURATIONS=$BATS_FILE_TMPDIR/webhook-configurations.json
save_webhook() {
  k get validatingwebhookconfiguration/bgpcomm-webhook mutatingwebhookconfiguration/bgpcomm-webhook \
    -o json | jq 'del(.items[].metadata | .resourceVersion, .uid, .creationTimestamp,
                                       .generation, .managedFields)' >"$WEBHOOK_CONFIGURATIONS"
}
webhook_registered() { k get validatingwebhookconfiguration bgpcomm-webhook >/dev/null 2>&1; }
unregister_webhook() {
  k delete validatingwebhookconfiguration bgpcomm-webhook >/dev/null
  k delete mutatingwebhookconfiguration bgpcomm-webhook >/dev/null
  provider_webhook_stop >/dev/null 2>&1
}
restore_webhook() {
  webhook_registered || k create -f "$WEBHOOK_CONFIGURATIONS" >/dev/null
  provider_webhook_start >/dev/null 2>&1
}
