{{/*
Names, labels and small derived values shared by every template. Names follow the usual Helm
convention (63-character DNS labels); labels follow app.kubernetes.io/* (Kubernetes "recommended labels").
*/}}

{{- define "raftchat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The StatefulSet's name and the prefix of every object. Pod names are "<fullname>-<ordinal>" and must stay
valid DNS labels after "-<ordinal>" and the headless Service's "-headless" are added, hence 52.
*/}}
{{- define "raftchat.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "raftchat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "raftchat.labels" -}}
helm.sh/chart: {{ include "raftchat.chart" . }}
app.kubernetes.io/name: {{ include "raftchat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: raftchat
{{- end }}

{{/*
Selects the chatd replicas and nothing else: the component label keeps the helm test Pod and the chaos
Job (same name and instance) out of the Services, the PodDisruptionBudget and the peer NetworkPolicy.
*/}}
{{- define "raftchat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "raftchat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Every Pod of this release (replicas, smoke test, chaos): the clients the chart itself runs. */}}
{{- define "raftchat.releaseLabels" -}}
app.kubernetes.io/name: {{ include "raftchat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The selector as `k=v,k=v`, for kubectl and `chatctl chaos --selector`. */}}
{{- define "raftchat.selectorString" -}}
{{- $pairs := list }}
{{- range $k, $v := include "raftchat.selectorLabels" . | fromYaml }}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{- define "raftchat.headlessServiceName" -}}
{{- printf "%s-headless" (include "raftchat.fullname" .) }}
{{- end }}

{{- define "raftchat.clusterConfigMapName" -}}
{{- printf "%s-cluster" (include "raftchat.fullname" .) }}
{{- end }}

{{- define "raftchat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "raftchat.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "raftchat.chaosName" -}}
{{- printf "%s-chaos" (include "raftchat.fullname" .) }}
{{- end }}

{{/* The Secret holding cluster-secret and admin-token: the user's own, or the one the chart keeps. */}}
{{- define "raftchat.secretName" -}}
{{- default (printf "%s-secret" (include "raftchat.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/* TLS is on when either listener uses it. */}}
{{- define "raftchat.tlsEnabled" -}}
{{- if or .Values.tls.client .Values.tls.peer }}true{{ end }}
{{- end }}

{{/* The Secret holding tls.crt, tls.key and ca.crt. */}}
{{- define "raftchat.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "raftchat.fullname" .)) .Values.tls.existingSecret }}
{{- end }}

{{/* Per-pod certificates from cert-manager's csi-driver (tls.certManager.csiDriver), checked for sense. */}}
{{- define "raftchat.tlsCsi" -}}
{{- if and (include "raftchat.tlsEnabled" .) .Values.tls.certManager.csiDriver }}
{{- if not .Values.tls.certManager.enabled }}{{ fail "tls.certManager.csiDriver needs tls.certManager.enabled: the per-pod certificates come from cert-manager" }}{{ end }}
{{- if .Values.tls.existingSecret }}{{ fail "tls.certManager.csiDriver and tls.existingSecret exclude each other: per-pod certificates are not kept in a Secret" }}{{ end }}
{{- true }}
{{- end }}
{{- end }}

{{/* The cert-manager issuer of the replicas' certificates: the one given, or the chart's own CA Issuer. */}}
{{- define "raftchat.certManagerIssuerRef" -}}
{{- $ref := .Values.tls.certManager.issuerRef }}
{{- if not $ref }}
{{- $ref = dict "name" (printf "%s-ca" (include "raftchat.fullname" .)) "kind" "Issuer" "group" "cert-manager.io" }}
{{- end }}
{{- toYaml $ref }}
{{- end }}

{{/*
A csi.cert-manager.io volume: a key made on the node and a certificate for the DNS names given (the
driver expands ${POD_NAME} and ${POD_NAMESPACE}), plus the issuing CA, renewed in place.
*/}}
{{- define "raftchat.csiCertificateVolume" -}}
{{- $root := .root }}
{{- $ref := include "raftchat.certManagerIssuerRef" $root | fromYaml }}
csi:
  driver: csi.cert-manager.io
  readOnly: true
  volumeAttributes:
    csi.cert-manager.io/issuer-name: {{ $ref.name | quote }}
    csi.cert-manager.io/issuer-kind: {{ $ref.kind | default "Issuer" | quote }}
    csi.cert-manager.io/issuer-group: {{ $ref.group | default "cert-manager.io" | quote }}
    csi.cert-manager.io/dns-names: {{ join "," .dnsNames | quote }}
    csi.cert-manager.io/duration: {{ $root.Values.tls.certManager.duration | quote }}
    csi.cert-manager.io/renew-before: {{ $root.Values.tls.certManager.renewBefore | quote }}
    csi.cert-manager.io/key-usages: {{ .keyUsages | quote }}
    csi.cert-manager.io/certificate-file: tls.crt
    csi.cert-manager.io/privatekey-file: tls.key
    csi.cert-manager.io/ca-file: ca.crt
    csi.cert-manager.io/fs-group: "10001" # the pods' fsGroup: chatd (uid 10001) reads the key
{{- end }}

{{/*
The names of one replica's own certificate in csi mode: its pod name under the headless Service (what it
advertises as its peer address, and what the identity check compares), and the client Service's names.
*/}}
{{- define "raftchat.podDnsNames" -}}
{{- $fullname := include "raftchat.fullname" . }}
{{- $headless := include "raftchat.headlessServiceName" . }}
{{- $domain := .Values.clusterDomain }}
{{- $names := list (printf "${POD_NAME}.%s.${POD_NAMESPACE}.svc.%s" $headless $domain) (printf "${POD_NAME}.%s.${POD_NAMESPACE}.svc" $headless) }}
{{- $names = concat $names (list $fullname (printf "%s.${POD_NAMESPACE}" $fullname) (printf "%s.${POD_NAMESPACE}.svc" $fullname) (printf "%s.${POD_NAMESPACE}.svc.%s" $fullname $domain)) }}
{{- $names = concat $names .Values.tls.extraDnsNames }}
{{- toYaml $names }}
{{- end }}

{{/* The client Service's address inside the cluster, as chatctl --servers takes it. */}}
{{- define "raftchat.clientAddress" -}}
{{- printf "%s.%s.svc.%s:%d" (include "raftchat.fullname" .) .Release.Namespace .Values.clusterDomain (int .Values.service.ports.grpc) }}
{{- end }}

{{/*
Every DNS name a replica answers to: each pod under the headless Service (for replicas ordinals and for
ordinalHeadroom more, so `kubectl scale` up a little stays covered), a wildcard for any other ordinal,
and the client Service's short and long names.
*/}}
{{- define "raftchat.tlsDnsNames" -}}
{{- $fullname := include "raftchat.fullname" . }}
{{- $headless := include "raftchat.headlessServiceName" . }}
{{- $ns := .Release.Namespace }}
{{- $domain := .Values.clusterDomain }}
{{- $names := list }}
{{- range $i := until (int (add .Values.replicas .Values.ordinalHeadroom)) }}
{{- $names = append $names (printf "%s-%d.%s.%s.svc.%s" $fullname $i $headless $ns $domain) }}
{{- end }}
{{- $names = append $names (printf "*.%s.%s.svc.%s" $headless $ns $domain) }}
{{- $names = append $names (printf "*.%s.%s.svc" $headless $ns) }}
{{- $names = append $names $fullname }}
{{- $names = append $names (printf "%s.%s" $fullname $ns) }}
{{- $names = append $names (printf "%s.%s.svc" $fullname $ns) }}
{{- $names = append $names (printf "%s.%s.svc.%s" $fullname $ns $domain) }}
{{- range .Values.tls.extraDnsNames }}
{{- $names = append $names . }}
{{- end }}
{{- toYaml $names }}
{{- end }}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "raftchat.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The securityContext every container of the chart runs with: the image's uid/gid 10001, nothing
writable but the mounted volumes, no capabilities, no privilege escalation.
*/}}
{{- define "raftchat.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "raftchat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Fails the render when a PodDisruptionBudget would let voluntary disruptions take the cluster below
quorum: n voters survive ⌊(n−1)/2⌋ down. 1 is always allowed (with 1 or 2 replicas no budget is safe,
and blocking every drain would be worse).
*/}}
{{- define "raftchat.checkDisruptionBudget" -}}
{{- $tolerated := div (sub (int .Values.replicas) 1) 2 }}
{{- $max := int .Values.podDisruptionBudget.maxUnavailable }}
{{- if and (gt $max 1) (gt $max (int $tolerated)) }}
{{- fail (printf "podDisruptionBudget.maxUnavailable=%d would let drains take %d of %d replicas down, losing quorum; at most %d is safe" $max $max (int .Values.replicas) (int $tolerated)) }}
{{- end }}
{{- end }}

{{/*
The three probes. Kubelet gRPC probes cannot speak TLS, so with tls.client they would always fail: the
chart then probes HTTP GET /livez and /readyz on the plaintext metrics port instead (same meanings as the
gRPC health services "liveness" and ""). That pair of endpoints is a proposed addition to the contract.
*/}}
{{- define "raftchat.probes" -}}
{{- $live := dict "grpc" (dict "port" 50051 "service" "liveness") }}
{{- $ready := dict "grpc" (dict "port" 50051 "service" "") }}
{{- if .Values.tls.client }}
{{- $live = dict "httpGet" (dict "path" "/livez" "port" "metrics") }}
{{- $ready = dict "httpGet" (dict "path" "/readyz" "port" "metrics") }}
{{- end }}
startupProbe:
  {{- toYaml (merge (deepCopy .Values.probes.startup) $live) | nindent 2 }}
livenessProbe:
  {{- toYaml (merge (deepCopy .Values.probes.liveness) $live) | nindent 2 }}
readinessProbe:
  {{- toYaml (merge (deepCopy .Values.probes.readiness) $ready) | nindent 2 }}
{{- end }}

{{/*
What a chatctl pod (helm test, chaos) needs when the client port speaks TLS: the CA only. chatctl reading
RAFTCHAT_TLS_CA_FILE / RAFTCHAT_TLS_CLIENT is a proposed addition to the contract (chatd already does).
Each renders nothing when tls.client is off.
*/}}
{{- define "raftchat.clientTlsEnv" -}}
{{- if .Values.tls.client }}
- name: RAFTCHAT_TLS_CLIENT
  value: "true"
- name: RAFTCHAT_TLS_CA_FILE
  value: /etc/raftchat/tls/ca.crt
{{- end }}
{{- end }}

{{- define "raftchat.clientTlsMount" -}}
{{- if .Values.tls.client }}
- name: tls-ca
  mountPath: /etc/raftchat/tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "raftchat.clientTlsVolume" -}}
{{- if and .Values.tls.client (include "raftchat.tlsCsi" .) }}
# Per-pod certificates leave no Secret holding the CA: a client pod gets it beside a client certificate
# of its own from the same issuer.
- name: tls-ca
  {{- include "raftchat.csiCertificateVolume" (dict "root" . "dnsNames" (list "${POD_NAME}.${POD_NAMESPACE}") "keyUsages" "digital signature,client auth") | nindent 2 }}
{{- else if .Values.tls.client }}
- name: tls-ca
  secret:
    secretName: {{ include "raftchat.tlsSecretName" . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}
