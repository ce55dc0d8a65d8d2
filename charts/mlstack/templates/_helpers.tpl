{{/*
Named templates shared by the umbrella and its subcharts (template names are global in an umbrella,
so every one here is prefixed `mlstack.`). Most take a list: (list $ "component").
*/}}

{{/* Object name of a component: RELEASE-COMPONENT, cut to the 63 characters DNS labels allow. */}}
{{- define "mlstack.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" $root.Release.Name (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select a component's pods; they never change across upgrades. */}}
{{- define "mlstack.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end -}}

{{/* Standard labels for every object of a component. */}}
{{- define "mlstack.labels" -}}
{{- $root := index . 0 -}}
{{ include "mlstack.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: mlstack
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* Reference of an mlstack image: (list $ .Values.image). global.image.registry is prefixed; the tag
     falls back to global.image.tag, then the chart's appVersion. */}}
{{- define "mlstack.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $global := $root.Values.global.image | default dict -}}
{{- $tag := $image.tag | default $global.tag | default $root.Chart.AppVersion -}}
{{- $repository := required "every image needs a repository" $image.repository -}}
{{- if $global.registry -}}
{{- printf "%s/%s:%s" $global.registry $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Reference of an upstream image (Postgres, MinIO) pinned by its own repository and tag. */}}
{{- define "mlstack.upstreamImage" -}}
{{- printf "%s:%s" (required "every image needs a repository" .repository) (required "upstream images need a pinned tag" .tag) -}}
{{- end -}}

{{/* Pull policy: the component's own, else the global one. */}}
{{- define "mlstack.imagePullPolicy" -}}
{{- $root := index . 0 -}}
{{- (index . 1).pullPolicy | default $root.Values.global.image.pullPolicy | default "IfNotPresent" -}}
{{- end -}}

{{/* Pod-level settings every pod shares: no API token, the pull secrets, the pod security context
     of the restricted Pod Security Standard for the given UID. Call with (list $ UID). */}}
{{- define "mlstack.podSpecCommon" -}}
{{- $root := index . 0 -}}
{{- $uid := index . 1 -}}
automountServiceAccountToken: false
{{- with $root.Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ $uid }}
  runAsGroup: {{ $uid }}
  fsGroup: {{ $uid }}
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Container security context of the restricted Pod Security Standard, read-only root filesystem. */}}
{{- define "mlstack.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* MLflow's Service port and in-cluster URL (the API, the trainer and the test pod use it). */}}
{{- define "mlstack.mlflowPort" -}}5000{{- end -}}
{{- define "mlstack.mlflowUrl" -}}
{{- printf "http://%s:%s" (include "mlstack.componentName" (list . "mlflow")) (include "mlstack.mlflowPort" .) -}}
{{- end -}}

{{/* The API's Service port. */}}
{{- define "mlstack.apiPort" -}}8080{{- end -}}

{{/* Where MLflow's backend database is and which Secret holds its password. */}}
{{- define "mlstack.database.host" -}}
{{- .Values.global.externalDatabase.host | default (include "mlstack.componentName" (list . "postgresql")) -}}
{{- end -}}
{{- define "mlstack.database.port" -}}
{{- if .Values.global.externalDatabase.host }}{{ .Values.global.externalDatabase.port }}{{ else }}5432{{ end -}}
{{- end -}}
{{- define "mlstack.database.secretName" -}}
{{- .Values.global.database.existingSecret | default (include "mlstack.componentName" (list . "postgresql")) -}}
{{- end -}}

{{/* Where the artifact store is and which Secret holds its keys. */}}
{{- define "mlstack.s3.endpoint" -}}
{{- .Values.global.externalS3.endpoint | default (printf "http://%s:9000" (include "mlstack.componentName" (list . "minio"))) -}}
{{- end -}}
{{- define "mlstack.s3.secretName" -}}
{{- .Values.global.objectStore.existingSecret | default (include "mlstack.componentName" (list . "minio")) -}}
{{- end -}}

{{/*
A generated secret value that survives upgrades: the live Secret's value when it exists (lookup), a
new random one otherwise. (list $ SECRET_NAME KEY LENGTH) -> base64 value.
*/}}
{{- define "mlstack.secretValue" -}}
{{- $root := index . 0 -}}
{{- $live := lookup "v1" "Secret" $root.Release.Namespace (index . 1) -}}
{{- if and $live $live.data (hasKey $live.data (index . 2)) -}}
{{- index $live.data (index . 2) -}}
{{- else -}}
{{- randAlphaNum (index . 3) | b64enc -}}
{{- end -}}
{{- end -}}

{{/* Ingress rule peers: pods of the release with the given component names. (list $ "mlflow" "api") */}}
{{- define "mlstack.peers" -}}
{{- $root := index . 0 -}}
{{- range $component := rest . }}
- podSelector:
    matchLabels:
      {{- include "mlstack.selectorLabels" (list $root $component) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Egress rule: DNS look-ups to any resolver (cluster DNS lives in kube-system under any name). */}}
{{- define "mlstack.egressDns" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end -}}

{{/* Egress rule to one component's pods on a port: (list $ "mlflow" 5000). */}}
{{- define "mlstack.egressTo" -}}
{{- $root := index . 0 -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "mlstack.selectorLabels" (list $root (index . 1)) | nindent 10 }}
  ports:
    - port: {{ index . 2 }}
      protocol: TCP
{{- end -}}

{{/* Egress rule to an address outside the cluster on a port (an external database or S3): (list PORT). */}}
{{- define "mlstack.egressAnywhere" -}}
- to:
    - ipBlock:
        cidr: 0.0.0.0/0
    - ipBlock:
        cidr: ::/0
  ports:
    - port: {{ index . 0 }}
      protocol: TCP
{{- end -}}

{{/* TCP port of the S3 endpoint (explicit port, else 443 for https and 80 for http). */}}
{{- define "mlstack.s3.port" -}}
{{- $url := urlParse (include "mlstack.s3.endpoint" .) -}}
{{- $parts := splitList ":" $url.host -}}
{{- if gt (len $parts) 1 }}{{ last $parts }}{{ else if eq $url.scheme "https" }}443{{ else }}80{{ end -}}
{{- end -}}

{{/* Egress rules of a pod that talks to MLflow's backends (the server and its migration Job). */}}
{{- define "mlstack.egressToDatabase" -}}
{{- if .Values.global.externalDatabase.host }}
{{- include "mlstack.egressAnywhere" (list .Values.global.externalDatabase.port) }}
{{- else }}
{{- include "mlstack.egressTo" (list . "postgresql" 5432) }}
{{- end }}
{{- end -}}
{{- define "mlstack.egressToObjectStore" -}}
{{- if .Values.global.externalS3.endpoint }}
{{- include "mlstack.egressAnywhere" (list (include "mlstack.s3.port" .)) }}
{{- else }}
{{- include "mlstack.egressTo" (list . "minio" 9000) }}
{{- end }}
{{- end -}}

{{/* MLflow basic auth (mlflow.auth.enabled): the Secret the mlflow chart generates and keeps. */}}
{{- define "mlstack.mlflowAuth.secretName" -}}
{{- printf "%s-auth" (include "mlstack.componentName" (list . "mlflow")) -}}
{{- end -}}

{{/* A client's own MLflow credentials, (list $ "trainer"). The references are optional: without
     mlflow.auth.enabled the Secret does not exist, the variables stay unset and MLflow is open. */}}
{{- define "mlstack.mlflowAuth.clientEnv" -}}
{{- $root := index . 0 -}}
{{- $user := index . 1 -}}
- name: MLFLOW_TRACKING_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "mlstack.mlflowAuth.secretName" $root }}
      key: {{ $user }}-username
      optional: true
- name: MLFLOW_TRACKING_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "mlstack.mlflowAuth.secretName" $root }}
      key: {{ $user }}-password
      optional: true
{{- end -}}
