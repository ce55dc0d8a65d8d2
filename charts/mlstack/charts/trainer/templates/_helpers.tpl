{{/* The trainer's config file: values `config` plus the model name and alias from global. */}}
{{- define "trainer.configYaml" -}}
{{- $config := deepCopy .Values.config -}}
{{- if not $config.target }}{{ $_ := unset $config "target" }}{{ end -}}
{{- $_ := set $config "model_name" .Values.global.modelName -}}
{{- $_ := set $config "alias" .Values.global.modelAlias -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Pod template shared by the CronJob (and so every `kubectl create job --from`) and the bootstrap Job. */}}
{{- define "trainer.podTemplate" -}}
metadata:
  labels:
    {{- include "mlstack.labels" (list . "trainer") | nindent 4 }}
  annotations:
    checksum/config: {{ include "trainer.configYaml" . | sha256sum }}
spec:
  {{- include "mlstack.podSpecCommon" (list . 10001) | nindent 2 }}
  restartPolicy: Never
  containers:
    - name: trainer
      image: {{ include "mlstack.image" (list . .Values.image) }}
      imagePullPolicy: {{ include "mlstack.imagePullPolicy" (list . .Values.image) }}
      command: ["python", "-m", "training"]
      env:
        - name: MLSTACK_CONFIG
          value: /etc/mlstack/trainer/config.yaml
        - name: MLFLOW_TRACKING_URI
          value: {{ include "mlstack.mlflowUrl" . | quote }}
        {{- include "mlstack.mlflowAuth.clientEnv" (list . "trainer") | nindent 8 }}
        {{- if .Values.dataVolume.existingClaim }}
        - name: MLSTACK_DATA_DIR
          value: {{ .Values.dataVolume.mountPath | quote }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- include "mlstack.containerSecurityContext" . | nindent 6 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/mlstack/trainer
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if .Values.dataVolume.existingClaim }}
        - name: data
          mountPath: {{ .Values.dataVolume.mountPath }}
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "mlstack.componentName" (list . "trainer") }}
    - name: tmp
      emptyDir:
        sizeLimit: 2Gi
    {{- if .Values.dataVolume.existingClaim }}
    - name: data
      persistentVolumeClaim:
        claimName: {{ .Values.dataVolume.existingClaim }}
        readOnly: true
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
