{{/* Names and labels shared by the chart's templates. */}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: fullnameOverride, else the release name alone when it already holds the chart's name. */}}
{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sluice.controllerName" -}}
{{- printf "%s-controller" (include "sluice.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.registryName" -}}
{{- printf "%s-registry" (include "sluice.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sluice.controllerName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end }}

{{/* Selector labels of one component (controller or registry): `include "sluice.selectorLabels" (list . "controller")`. */}}
{{- define "sluice.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "sluice.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "sluice.kafkaBootstrap" -}}
{{- required "kafka.bootstrap is required: --set kafka.bootstrap=host:port[,host:port]" .Values.kafka.bootstrap }}
{{- end }}

{{/* The registry SchemaSubjects use by default: controller.registryUrl, else the chart's own registry when it runs one. */}}
{{- define "sluice.registryUrl" -}}
{{- if .Values.controller.registryUrl }}
{{- .Values.controller.registryUrl }}
{{- else if .Values.registry.enabled }}
{{- printf "%s://%s.%s.svc:%v" (ternary "https" "http" (not (empty .Values.registry.tls.secretName))) (include "sluice.registryName" .) .Release.Namespace .Values.registry.port }}
{{- end }}
{{- end }}

{{- define "sluice.image" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}

{{/* The Secret whose ca.crt the controller trusts for its default registry: registry.tls.caSecretName, else the TLS Secret. */}}
{{- define "sluice.registryCaSecret" -}}
{{- default .Values.registry.tls.secretName .Values.registry.tls.caSecretName }}
{{- end }}
