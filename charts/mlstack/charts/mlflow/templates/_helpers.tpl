{{/* Environment shared by the MLflow server, its init container and the migration Job: the backend
     URI (no password: libpq reads PGPASSWORD) and the S3 settings of the artifact proxy. */}}
{{- define "mlflow.env" -}}
{{- $db := .Values.global.database -}}
{{- $query := "" -}}
{{- if .Values.global.externalDatabase.host }}{{ $query = printf "?sslmode=%s" .Values.global.externalDatabase.sslmode }}{{ end -}}
- name: HOME
  value: /tmp
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "mlstack.database.secretName" . }}
      key: {{ $db.passwordKey }}
- name: MLFLOW_BACKEND_STORE_URI
  value: {{ printf "postgresql://%s@%s:%s/%s%s" $db.user (include "mlstack.database.host" .) (include "mlstack.database.port" .) $db.name $query | quote }}
{{- end -}}

{{- define "mlflow.s3Env" -}}
{{- $store := .Values.global.objectStore -}}
- name: MLFLOW_S3_ENDPOINT_URL
  value: {{ include "mlstack.s3.endpoint" . | quote }}
- name: AWS_DEFAULT_REGION
  value: {{ .Values.global.externalS3.region | quote }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "mlstack.s3.secretName" . }}
      key: {{ $store.accessKeyKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mlstack.s3.secretName" . }}
      key: {{ $store.secretKeyKey }}
{{- end -}}

{{/* Host header values MLflow 3 accepts: every name of the Service (with any port), localhost for
     port-forwards, and the user's extras. */}}
{{- define "mlflow.allowedHosts" -}}
{{- $svc := include "mlstack.componentName" (list . "mlflow") -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.global.clusterDomain) -}}
{{- $all := list -}}
{{- range $hosts }}{{ $all = append $all . }}{{ $all = append $all (printf "%s:*" .) }}{{ end -}}
{{- $all = concat $all (list "localhost" "localhost:*" "127.0.0.1" "127.0.0.1:*") .Values.extraAllowedHosts -}}
{{- join "," $all -}}
{{- end -}}

{{/* The migration command of the hook Job and the init container. */}}
{{- define "mlflow.migrateCommand" -}}
command: ["python", "-m", "mlstack.db_migrate", "--wait-seconds", {{ .Values.migration.waitSeconds | quote }}]
{{- end -}}

{{/* With auth: what the init container's migration needs to create the auth database and the
     trainer's and API's users. (Not the hook Job: on a pre-install hook the generated Secret does
     not exist yet; every MLflow pod's init container does it, under the migration lock.) */}}
{{- define "mlflow.authMigrateEnv" -}}
{{- if .Values.auth.enabled -}}
{{- $secret := include "mlstack.mlflowAuth.secretName" . -}}
- name: MLSTACK_AUTH_DATABASE
  value: {{ .Values.auth.database | quote }}
- name: MLSTACK_AUTH_USERS
  value: trainer,api
- name: MLSTACK_AUTH_PASSWORD_TRAINER
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: trainer-password
- name: MLSTACK_AUTH_PASSWORD_API
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: api-password
{{- end }}
{{- end -}}

{{/* With auth: the server's admin credentials, session key and auth config. */}}
{{- define "mlflow.authServerEnv" -}}
{{- if .Values.auth.enabled -}}
{{- $secret := include "mlstack.mlflowAuth.secretName" . -}}
- name: MLFLOW_AUTH_CONFIG_PATH
  value: /etc/mlflow/auth/basic_auth.ini
- name: MLFLOW_AUTH_ADMIN_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: admin-username
- name: MLFLOW_AUTH_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: admin-password
- name: MLFLOW_FLASK_SERVER_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: flask-secret-key
{{- end }}
{{- end -}}
