{{/*
Names. fullname is truncated to 63 characters (DNS label limit) and leaves room for the component suffixes
("-speech-server" is the longest, 14 characters) by truncating the base to 48.
*/}}
{{- define "rca.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 48 | trimSuffix "-" -}}
{{- end -}}

{{- define "rca.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rca.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. The chart label stays out of selectors so upgrades keep matching. */}}
{{- define "rca.labels" -}}
helm.sh/chart: {{ include "rca.chart" . }}
app.kubernetes.io/name: {{ include "rca.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: riva-call-agent
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of the whole release (the default-deny NetworkPolicy selects on these). */}}
{{- define "rca.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "rca.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component. Call with (dict "ctx" $ "component" "agent"). */}}
{{- define "rca.selectorLabels" -}}
{{ include "rca.releaseSelectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component. Call with (dict "ctx" $ "component" "agent"). */}}
{{- define "rca.componentLabels" -}}
{{ include "rca.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rca.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rca.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image reference. A digest wins over the tag; the tag falls back to the chart's appVersion.
Call with (dict "ctx" $ "image" .Values.agent.image).
*/}}
{{- define "rca.image" -}}
{{- $registry := default .image.registry .ctx.Values.global.imageRegistry -}}
{{- $repo := .image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" $registry .image.repository -}}{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "rca.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "rca.apiServiceName" -}}
{{- printf "%s-api" (include "rca.fullname" .) -}}
{{- end -}}

{{- define "rca.speechServerName" -}}
{{- printf "%s-speech-server" (include "rca.fullname" .) -}}
{{- end -}}

{{/* The control API URL the agent uploads transcripts to: an explicit URL, else the in-chart API Service. */}}
{{- define "rca.controlApiUrl" -}}
{{- if .Values.agent.controlApi.url -}}
{{- .Values.agent.controlApi.url -}}
{{- else if .Values.api.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "rca.apiServiceName" .) .Release.Namespace (int .Values.api.service.port) -}}
{{- end -}}
{{- end -}}

{{/* RIVA_URL for the selected Riva mode. */}}
{{- define "rca.rivaUrl" -}}
{{- if eq .Values.riva.mode "hosted" -}}
{{- .Values.riva.hosted.url -}}
{{- else if eq .Values.riva.mode "speechServer" -}}
{{- printf "%s.%s.svc:%d" (include "rca.speechServerName" .) .Release.Namespace (int .Values.speechServer.port) -}}
{{- else -}}
{{- required "riva.inCluster.url is required when riva.mode is inCluster" .Values.riva.inCluster.url -}}
{{- end -}}
{{- end -}}

{{/* Restricted pod security context (Pod Security "restricted" plus a fixed non-root uid). */}}
{{- define "rca.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end -}}

{{/* Container security context. */}}
{{- define "rca.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end -}}

{{/*
preStop hook that sleeps before SIGTERM so endpoint and readiness changes propagate first. The native sleep
action needs no shell or sleep binary but is only served from Kubernetes 1.30 (PodLifecycleSleepAction).
Call with (dict "ctx" $ "seconds" 10).
*/}}
{{- define "rca.preStop" -}}
preStop:
{{- if semverCompare ">=1.30-0" .ctx.Capabilities.KubeVersion.Version }}
  sleep:
    seconds: {{ .seconds }}
{{- else }}
  exec:
    command: ["sleep", "{{ .seconds }}"]
{{- end }}
{{- end -}}

{{/* Topology spread over zones and nodes for one component. Call with (dict "ctx" $ "component" "agent"). */}}
{{- define "rca.topologySpread" -}}
{{- $ctx := .ctx -}}
{{- $component := .component -}}
{{- range $ctx.Values.topologySpread.topologyKeys }}
- maxSkew: {{ $ctx.Values.topologySpread.maxSkew }}
  topologyKey: {{ . }}
  whenUnsatisfiable: {{ $ctx.Values.topologySpread.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "rca.selectorLabels" (dict "ctx" $ctx "component" $component) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Egress rule to the cluster DNS. */}}
{{- define "rca.dnsEgress" -}}
- to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 8 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end -}}
