{{/* Names and labels shared by every template. */}}
{{- define "bgpcomm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bgpcomm.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "bgpcomm.webhookName" -}}{{ include "bgpcomm.fullname" . }}-webhook{{- end -}}
{{- define "bgpcomm.speakerName" -}}{{ include "bgpcomm.fullname" . }}-speaker{{- end -}}
{{- define "bgpcomm.certSecretName" -}}
{{- default (printf "%s-cert" (include "bgpcomm.webhookName" .)) .Values.webhook.certificate.secretName -}}
{{- end -}}
{{- define "bgpcomm.metallbNamespace" -}}{{ default .Release.Namespace .Values.metallbNamespace }}{{- end -}}
{{- define "bgpcomm.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "bgpcomm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: bgpcomm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "bgpcomm.webhookSelector" -}}
app.kubernetes.io/name: {{ include "bgpcomm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "bgpcomm.speakerSelector" -}}
app.kubernetes.io/name: {{ include "bgpcomm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: speaker
{{- end -}}

{{/* The security context both containers run with: nothing beyond an unprivileged user. */}}
{{- define "bgpcomm.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The API servers' addresses for the webhook's NetworkPolicy, as JSON
{"source": "values"|"lookup"|"fallback", "cidrs": [...], "ports": [...]}:
webhook.networkPolicy.apiServerCIDRs when set; else the addresses of the EndpointSlice
`kubernetes` in `default` (what the API servers publish about themselves), each as /32 or
/128, with its ports added to apiServerPorts; else (lookup answers nothing: helm template,
helm install --dry-run without =server, a GitOps renderer) every address, so that the
webhook stays reachable, and NOTES.txt says so.
*/}}
{{- define "bgpcomm.apiServerPeers" -}}
{{- $np := .Values.webhook.networkPolicy -}}
{{- $ports := list -}}
{{- range $np.apiServerPorts }}{{ $ports = append $ports (int .) }}{{ end -}}
{{- $cidrs := list -}}
{{- $source := "values" -}}
{{- if $np.apiServerCIDRs -}}
{{- $cidrs = $np.apiServerCIDRs -}}
{{- else -}}
{{- $source = "lookup" -}}
{{- $slice := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "kubernetes" | default dict -}}
{{- range ($slice.endpoints | default list) -}}
{{- range (.addresses | default list) -}}
{{- $cidrs = append $cidrs (printf "%s/%s" . (ternary "128" "32" (contains ":" .))) -}}
{{- end -}}
{{- end -}}
{{- range ($slice.ports | default list) -}}
{{- if and .port (not (has (int .port) $ports)) }}{{ $ports = append $ports (int .port) }}{{ end -}}
{{- end -}}
{{- if not $cidrs -}}
{{- $source = "fallback" -}}
{{- $cidrs = list "0.0.0.0/0" "::/0" -}}
{{- end -}}
{{- end -}}
{{- dict "source" $source "cidrs" (uniq $cidrs) "ports" $ports | toJson -}}
{{- end -}}
