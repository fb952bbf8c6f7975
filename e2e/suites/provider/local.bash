# Provider "local": the control plane of e2e/cluster/up.sh, whose webhook is a local
# process managed by e2e/cluster/webhook.sh.
provider_webhook_stop() { "$E2E_REPO/e2e/cluster/webhook.sh" stop; }
provider_webhook_start() { "$E2E_REPO/e2e/cluster/webhook.sh" start "$@"; }
