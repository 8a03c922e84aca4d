{{/*
Checks across values that values.schema.json cannot express. Included once from configmap.yaml so a bad
combination fails `helm template`/`install` with a message naming the values to fix.
*/}}
{{- define "rca.validate" -}}
{{- $v := .Values -}}
{{- if or $v.agent.enabled $v.api.enabled -}}
{{- $_ := required "livekit.url is required (wss://...)" $v.livekit.url -}}
{{- $_ := required "livekit.existingSecret is required: a Secret with the LiveKit API key and secret" $v.livekit.existingSecret -}}
{{- end -}}
{{- if $v.api.enabled -}}
{{- $_ := required "api.encryption.existingSecret is required: a Secret with the transcript master key" $v.api.encryption.existingSecret -}}
{{- if and (gt (int $v.api.replicaCount) 1) (not $v.api.database.existingSecret) -}}
{{- fail "api.replicaCount > 1 needs PostgreSQL (api.database.existingSecret): embedded PGlite is single-writer" -}}
{{- end -}}
{{- end -}}
{{- if and $v.agent.enabled (eq $v.riva.mode "hosted") -}}
{{- $_ := required "riva.hosted.existingSecret is required in hosted mode: a Secret with the NVIDIA API key" $v.riva.hosted.existingSecret -}}
{{- $host := regexReplaceAll "^grpcs://([^:/]+).*$" $v.riva.hosted.url "${1}" -}}
{{- $listed := false -}}
{{- range $v.agent.allowedEndpointHosts -}}
{{- if or (eq . $host) (and (hasPrefix "." .) (hasSuffix . $host)) -}}
{{- $listed = true -}}
{{- end -}}
{{- end -}}
{{- if not $listed -}}
{{- fail (printf "riva.mode=hosted sends caller audio to %s, which is not EU-resident; the agent's EU guard refuses it unless agent.allowedEndpointHosts lists %s (add it to acknowledge)" $host $host) -}}
{{- end -}}
{{- end -}}
{{- if and $v.agent.enabled (eq $v.agent.brain "llm") -}}
{{- $_ := required "agent.llm.baseUrl is required when agent.brain is llm" $v.agent.llm.baseUrl -}}
{{- end -}}
{{- $needed := add (int $v.agent.drainTimeoutSeconds) (int $v.agent.preStopSleepSeconds) -}}
{{- if lt (int $v.agent.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "agent.terminationGracePeriodSeconds (%d) must be at least agent.preStopSleepSeconds + agent.drainTimeoutSeconds (%d), or draining calls are killed" (int $v.agent.terminationGracePeriodSeconds) (int $needed)) -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (lt (int $v.autoscaling.scaleDownStabilizationSeconds) (int $v.agent.drainTimeoutSeconds)) -}}
{{- fail "autoscaling.scaleDownStabilizationSeconds must be at least agent.drainTimeoutSeconds (slow scale-down while calls drain)" -}}
{{- end -}}
{{- end -}}
