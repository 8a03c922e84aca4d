{{/*
Scaling behaviour shared by the HPA and KEDA's generated HPA: scale up quickly on call load, scale down one
worker at a time after a window at least as long as the drain time, so capacity is not taken away from calls
that are still draining.
*/}}
{{- define "rca.scalingBehavior" -}}
scaleUp:
  stabilizationWindowSeconds: 0
  selectPolicy: Max
  policies:
    - type: Pods
      value: 4
      periodSeconds: 60
    - type: Percent
      value: 100
      periodSeconds: 60
scaleDown:
  stabilizationWindowSeconds: {{ .Values.autoscaling.scaleDownStabilizationSeconds }}
  selectPolicy: Min
  policies:
    - type: Pods
      value: 1
      periodSeconds: {{ .Values.autoscaling.scaleDownPeriodSeconds }}
{{- end -}}
