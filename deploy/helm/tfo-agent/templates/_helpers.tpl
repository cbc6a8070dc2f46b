{{- define "tfo-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tfo-agent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tfo-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tfo-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tfo-agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tfo-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "tfo-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tfo-agent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tfo-agent.secretName" -}}
{{- default (include "tfo-agent.fullname" .) .Values.telemetryflow.apiKey.existingSecret -}}
{{- end -}}

{{- define "tfo-agent.hasApiKey" -}}
{{- if or .Values.telemetryflow.apiKey.existingSecret .Values.telemetryflow.apiKey.id -}}true{{- end -}}
{{- end -}}

{{/*
The agent's configuration file in the TelemetryFlow layout. Credentials are not in it: they
reach the agent as TELEMETRYFLOW_API_KEY_ID/SECRET from the Secret (env wins over the file).
*/}}
{{- define "tfo-agent.config" -}}
{{- $v := .Values -}}
{{- $base := dict
  "telemetryflow" (dict
    "endpoint" $v.telemetryflow.endpoint
    "backend_endpoint" $v.telemetryflow.backendEndpoint
    "protocol" $v.telemetryflow.protocol
    "workspace_id" $v.telemetryflow.workspaceId
    "tenant_id" $v.telemetryflow.tenantId
    "timeout" $v.telemetryflow.timeout
    "tls" (dict
      "enabled" $v.telemetryflow.tls.enabled
      "skip_verify" $v.telemetryflow.tls.skipVerify
      "ca_file" $v.telemetryflow.tls.caFile
      "cert_file" $v.telemetryflow.tls.certFile
      "key_file" $v.telemetryflow.tls.keyFile))
  "agent" (dict
    "name" $v.agent.name
    "tags" $v.agent.tags
    "data_dir" "/var/lib/tfo-agent")
  "heartbeat" (dict
    "interval" $v.heartbeat.interval
    "cloud_metadata" (dict "enabled" $v.heartbeat.cloudMetadata))
  "collectors" (dict
    "system" (dict
      "enabled" true
      "interval" $v.collectors.interval
      "naming" $v.collectors.naming
      "cpu_options" (ternary (dict "per_cpu" $v.collectors.perCpu) (dict) (hasKey $v.collectors "perCpu")))
    "process" (dict
      "enabled" $v.collectors.process.enabled
      "interval" $v.collectors.process.interval
      "processes" $v.collectors.process.processes
      "top_n" $v.collectors.process.topN))
  "exporter" (dict
    "otlp" (dict
      "compression" $v.exporter.compression
      "endpoint_version" $v.exporter.endpointVersion
      "headers" $v.exporter.headers))
  "buffer" (dict
    "enabled" $v.buffer.enabled
    "path" "/var/lib/tfo-agent/buffer"
    "max_size_mb" $v.buffer.maxSizeMb
    "max_age" $v.buffer.maxAge)
  "logging" (dict "level" $v.logging.level "format" $v.logging.format)
  "health" (dict "enabled" true "address" (printf "0.0.0.0:%v" $v.health.port))
-}}
{{- toYaml (mustMergeOverwrite $base (deepCopy $v.extraConfig)) -}}
{{- end -}}
