{{/* Names, labels and the checks of values that cannot work together. */}}

{{- define "defender-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The StatefulSet's pods are <fullname>-<ordinal>: 52 characters leave room for the ordinal and the
controller-revision-hash label StatefulSets add. */}}
{{- define "defender-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else if contains (include "defender-exporter.name" .) .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "defender-exporter.name" .) | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "defender-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "defender-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "defender-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "defender-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ include "defender-exporter.tag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "defender-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "defender-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing service account when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "defender-exporter.tag" -}}
{{- $tag := toString (default .Chart.AppVersion .Values.image.tag) }}
{{- if eq $tag "latest" }}
{{- fail "image.tag: latest is refused; name a release (default: the chart's appVersion) or set image.digest, so that every replica runs the same exporter" }}
{{- end }}
{{- $tag }}
{{- end }}

{{- define "defender-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "defender-exporter.tag" .) }}
{{- end }}
{{- end }}

{{/* Where the configuration comes from: "inline" (a ConfigMap of this release), "existing" (the user's
ConfigMap) or "" (no --config.file: the AZURE_* variables, or --demo). */}}
{{- define "defender-exporter.configSource" -}}
{{- $inline := .Values.config.inline }}
{{- $existing := .Values.config.existingConfigMap.name }}
{{- if and $inline $existing }}
{{- fail "config: set config.inline or config.existingConfigMap.name, not both" }}
{{- end }}
{{- if and .Values.demo.enabled (or $inline $existing) }}
{{- fail "demo.enabled: --demo serves its own tenants and cannot be combined with config.inline or config.existingConfigMap" }}
{{- end }}
{{- if $inline }}inline{{ else if $existing }}existing{{ end }}
{{- end }}

{{- define "defender-exporter.configMapName" -}}
{{- if eq (include "defender-exporter.configSource" .) "existing" }}
{{- .Values.config.existingConfigMap.name }}
{{- else }}
{{- include "defender-exporter.fullname" . }}
{{- end }}
{{- end }}

{{- define "defender-exporter.configKey" -}}
{{- if eq (include "defender-exporter.configSource" .) "existing" }}
{{- required "config.existingConfigMap.key: the key of the ConfigMap that holds defender.yml" .Values.config.existingConfigMap.key }}
{{- else -}}
defender.yml
{{- end }}
{{- end }}

{{/* The inline configuration as the file's text: a string as written, a map as YAML. */}}
{{- define "defender-exporter.configText" -}}
{{- if kindIs "string" .Values.config.inline }}
{{- .Values.config.inline | trimSuffix "\n" }}
{{- else }}
{{- toYaml .Values.config.inline }}
{{- end }}
{{- end }}

{{/* 90% of resources.limits.memory in MiB when it is given in Mi or Gi (the Go runtime's soft limit
leaves room for what is not heap), or goMemLimit as given. */}}
{{- define "defender-exporter.goMemLimit" -}}
{{- if .Values.goMemLimit }}
{{- .Values.goMemLimit }}
{{- else }}
{{- $limit := toString (((.Values.resources).limits).memory | default "") }}
{{- if regexMatch "^[0-9]+Mi$" $limit }}
{{- printf "%dMiB" (div (mul (trimSuffix "Mi" $limit | atoi) 9) 10) }}
{{- else if regexMatch "^[0-9]+Gi$" $limit }}
{{- printf "%dMiB" (div (mul (trimSuffix "Gi" $limit | atoi) 1024 9) 10) }}
{{- end }}
{{- end }}
{{- end }}

{{- define "defender-exporter.args" -}}
{{- $source := include "defender-exporter.configSource" . }}
{{- $replicas := int .Values.replicas }}
{{- if lt $replicas 1 }}
{{- fail (printf "replicas: %d; want 1 or more (above 1, each replica exports one shard of the tenants)" $replicas) }}
{{- end }}
- --web.listen-address=:{{ .Values.port }}
{{- if .Values.demo.enabled }}
- --demo
{{- with .Values.demo.alertBurstAfter }}
- --demo.alert-burst-after={{ . }}
{{- end }}
{{- else if $source }}
- --config.file=/etc/defender_exporter/{{ include "defender-exporter.configKey" . }}
{{- end }}
{{- if gt $replicas 1 }}
- --shard.count={{ $replicas }}
- --shard.index-from-hostname
{{- end }}
{{- if .Values.webEnableLifecycle }}
- --web.enable-lifecycle
{{- end }}
- --log.level={{ .Values.log.level }}
- --log.format={{ .Values.log.format }}
{{- with .Values.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end }}
