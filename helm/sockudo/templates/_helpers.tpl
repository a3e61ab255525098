{{/*
Names, labels and the environment of the sockudo containers. Every environment variable the
chart sets comes from one of the "sockudo.env.*" helpers below, so the mapping from values to the
server's variables lives in one place.
*/}}

{{- define "sockudo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sockudo.fullname" -}}
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

{{/* Names of the objects ("-controlplane" and "-headless" suffixes leave room in 63). */}}
{{- define "sockudo.controlPlaneName" -}}
{{- printf "%s-controlplane" (include "sockudo.fullname" . | trunc 50 | trimSuffix "-") }}
{{- end }}

{{- define "sockudo.headlessName" -}}
{{- printf "%s-headless" (include "sockudo.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{- define "sockudo.configFileName" -}}
{{- printf "%s-file" (include "sockudo.fullname" . | trunc 58 | trimSuffix "-") }}
{{- end }}

{{- define "sockudo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; pass (dict "root" $ "component" "node"). */}}
{{- define "sockudo.labels" -}}
helm.sh/chart: {{ include "sockudo.chart" .root }}
{{ include "sockudo.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: sockudo
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels; pass (dict "root" $ "component" "node"). */}}
{{- define "sockudo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sockudo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "sockudo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sockudo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sockudo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Name of the Secret holding the secret values (generated or existing). */}}
{{- define "sockudo.secretName" -}}
{{- default (include "sockudo.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* "true" when the chart renders its own Secret. */}}
{{- define "sockudo.generateSecret" -}}
{{- if and (not .Values.existingSecret) (or (include "sockudo.servesDefaultApp" .) .Values.controlPlane.enabled .Values.redis.password .Values.redisCluster.password .Values.nats.password .Values.nats.token) }}true{{ end }}
{{- end }}

{{/* "true" when the control plane runs as its own Deployment (a shared bus). */}}
{{- define "sockudo.controlPlaneStandalone" -}}
{{- if and .Values.controlPlane.enabled (ne .Values.adapter.driver "local") }}true{{ end }}
{{- end }}

{{/* "true" when the control plane runs inside the node (the local bus). */}}
{{- define "sockudo.controlPlaneEmbedded" -}}
{{- if and .Values.controlPlane.enabled (eq .Values.adapter.driver "local") }}true{{ end }}
{{- end }}

{{/* "true" when the nodes serve the default app from SOCKUDO_DEFAULT_APP_* (memory app store). */}}
{{- define "sockudo.servesDefaultApp" -}}
{{- if and .Values.defaultApp.enabled (eq .Values.appManager.driver "memory") }}true{{ end }}
{{- end }}

{{/* "true" when something talks to the standalone Redis. */}}
{{- define "sockudo.usesRedis" -}}
{{- $v := .Values }}
{{- if or (eq $v.adapter.driver "redis") (eq $v.appManager.driver "redis") (eq $v.cache.driver "redis") (eq $v.rateLimiter.driver "redis") (eq $v.webhooks.queueDriver "redis") }}true{{ end }}
{{- end }}

{{/* "true" when something talks to the Redis Cluster. */}}
{{- define "sockudo.usesRedisCluster" -}}
{{- $v := .Values }}
{{- if or (eq $v.adapter.driver "redis-cluster") (eq $v.cache.driver "redis-cluster") (eq $v.rateLimiter.driver "redis-cluster") (eq $v.webhooks.queueDriver "redis-cluster") }}true{{ end }}
{{- end }}

{{/* Path of the startup probe (see probes.startup.path in values.yaml). */}}
{{- define "sockudo.startupPath" -}}
{{- if .Values.probes.startup.path }}
{{- .Values.probes.startup.path }}
{{- else if include "sockudo.servesDefaultApp" . }}
{{- "/up" }}
{{- else }}
{{- "/ready" }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds of the nodes: preStop sleep + shutdown deadline (SHUTDOWN_GRACE_PERIOD) + margin. */}}
{{- define "sockudo.terminationGracePeriod" -}}
{{- add .Values.drain.preStopSleepSeconds .Values.drain.gracePeriodSeconds .Values.drain.extraSeconds }}
{{- end }}

{{/*
Settings that make no sense together stop the render with a message naming the value.
*/}}
{{- define "sockudo.validate" -}}
{{- $v := .Values }}
{{- if and (eq $v.adapter.driver "local") (or (gt (int $v.replicaCount) 1) $v.autoscaling.enabled) }}
{{- fail "adapter.driver=local serves one pod only (the bus is in-process): keep replicaCount at 1 and autoscaling.enabled=false, or choose adapter.driver redis, redis-cluster or nats" }}
{{- end }}
{{- if and (include "sockudo.usesRedis" .) (not $v.redis.host) }}
{{- fail "redis.host is required: adapter.driver or appManager.driver is redis" }}
{{- end }}
{{- if and (include "sockudo.usesRedisCluster" .) (not $v.redisCluster.nodes) }}
{{- fail "redisCluster.nodes is required with adapter.driver=redis-cluster" }}
{{- end }}
{{- if and (eq $v.adapter.driver "nats") (not $v.nats.servers) }}
{{- fail "nats.servers is required with adapter.driver=nats" }}
{{- end }}
{{- if and $v.nats.password $v.nats.token }}
{{- fail "nats.password and nats.token are exclusive: set one authentication method" }}
{{- end }}
{{- if and (eq $v.adapter.driver "nats") $v.nats.username (not $v.nats.password) (not $v.existingSecret) }}
{{- fail "nats.username needs nats.password (or existingSecret holding secretKeys.natsPassword)" }}
{{- end }}
{{- if and (include "sockudo.controlPlaneStandalone" .) (ne $v.appManager.driver "redis") }}
{{- fail (printf "controlPlane.enabled with adapter.driver=%s needs appManager.driver=redis (and redis.host): the standalone control plane writes apps to the shared Redis store the nodes read. Or set controlPlane.enabled=false to serve the default app from each pod" $v.adapter.driver) }}
{{- end }}
{{- if and (eq $v.appManager.driver "redis") $v.redis.tls }}
{{- fail "appManager.driver=redis does not support a TLS Redis endpoint yet (redis.tls)" }}
{{- end }}
{{- if and $v.metrics.serviceMonitor.enabled (not $v.server.metricsEnabled) }}
{{- fail "metrics.serviceMonitor.enabled needs server.metricsEnabled=true" }}
{{- end }}
{{- end }}

{{/*
Environment shared by sockudo-node and sockudo-controlplane (ConfigMap data: NAME: "value").
*/}}
{{- define "sockudo.env.common" -}}
{{- $v := .Values -}}
ADAPTER_DRIVER: {{ $v.adapter.driver | quote }}
LOG_LEVEL: {{ $v.server.logLevel | quote }}
LOG_OUTPUT_FORMAT: {{ $v.server.logFormat | quote }}
LOG_COLORS_ENABLED: "false"
ENVIRONMENT: {{ $v.server.environment | quote }}
APP_MANAGER_DRIVER: {{ $v.appManager.driver | quote }}
CONTROL_PLANE_GRPC_PORT: {{ $v.controlPlane.grpcPort | int | quote }}
CONTROL_PLANE_REST_PORT: {{ $v.controlPlane.restPort | int | quote }}
{{- if ne $v.adapter.driver "local" }}
ADAPTER_CLUSTER_HEALTH_ENABLED: {{ $v.adapter.clusterHealth.enabled | toString | quote }}
ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS: {{ $v.adapter.clusterHealth.heartbeatIntervalMs | int | quote }}
ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS: {{ $v.adapter.clusterHealth.nodeTimeoutMs | int | quote }}
ADAPTER_CLUSTER_HEALTH_CLEANUP_INTERVAL_MS: {{ $v.adapter.clusterHealth.cleanupIntervalMs | int | quote }}
{{- end }}
{{- if include "sockudo.usesRedis" . }}
DATABASE_REDIS_HOST: {{ $v.redis.host | quote }}
DATABASE_REDIS_PORT: {{ $v.redis.port | int | quote }}
DATABASE_REDIS_DB: {{ $v.redis.db | int | quote }}
DATABASE_REDIS_KEY_PREFIX: {{ $v.redis.keyPrefix | quote }}
DATABASE_REDIS_MASTER_TLS_ENABLED: {{ $v.redis.tls | toString | quote }}
{{- with $v.redis.username }}
DATABASE_REDIS_USERNAME: {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq $v.adapter.driver "redis" }}
ADAPTER_REDIS_PREFIX: {{ $v.redis.adapterPrefix | quote }}
{{- end }}
{{- if include "sockudo.usesRedisCluster" . }}
REDIS_CLUSTER_NODES: {{ join "," $v.redisCluster.nodes | quote }}
DATABASE_REDIS_CLUSTER_USE_TLS: {{ $v.redisCluster.useTls | toString | quote }}
{{- with $v.redisCluster.username }}
DATABASE_REDIS_CLUSTER_USERNAME: {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq $v.adapter.driver "redis-cluster" }}
ADAPTER_CLUSTER_USE_SHARDED_PUBSUB: {{ $v.redisCluster.useShardedPubsub | toString | quote }}
{{- end }}
{{- if eq $v.adapter.driver "nats" }}
NATS_SERVERS: {{ join "," $v.nats.servers | quote }}
NATS_PREFIX: {{ $v.nats.prefix | quote }}
NATS_REQUEST_TIMEOUT_MS: {{ $v.nats.requestTimeoutMs | int | quote }}
NATS_CONNECTION_TIMEOUT_MS: {{ $v.nats.connectionTimeoutMs | int | quote }}
{{- with $v.nats.username }}
NATS_USERNAME: {{ . | quote }}
{{- end }}
{{- end }}
{{- if $v.configFile }}
SOCKUDO_CONFIG_FILE: "/etc/sockudo/config.json"
{{- end }}
{{- end }}

{{/* Environment of sockudo-node only (ConfigMap data). */}}
{{- define "sockudo.env.node" -}}
{{- $v := .Values -}}
HOST: "0.0.0.0"
PORT: {{ $v.server.port | int | quote }}
METRICS_HOST: "0.0.0.0"
METRICS_PORT: {{ $v.server.metricsPort | int | quote }}
METRICS_ENABLED: {{ $v.server.metricsEnabled | toString | quote }}
METRICS_PROMETHEUS_PREFIX: {{ $v.server.metricsPrefix | quote }}
WORKER_THREADS: {{ $v.server.workerThreads | int | quote }}
ACTIVITY_TIMEOUT: {{ $v.server.activityTimeout | int | quote }}
SOCKUDO_MAX_CONNECTIONS: {{ $v.server.maxConnections | int | quote }}
HEALTH_CHECK_TIMEOUT_MS: {{ $v.server.healthCheckTimeoutMs | int | quote }}
SHUTDOWN_GRACE_PERIOD: {{ $v.drain.gracePeriodSeconds | int | quote }}
SHUTDOWN_DRAIN_SPREAD_SECONDS: {{ $v.drain.spreadSeconds | int | quote }}
{{- with $v.server.corsOrigins }}
CORS_ORIGINS: {{ join "," . | quote }}
{{- end }}
{{- if ne $v.adapter.driver "local" }}
ADAPTER_ENABLE_SOCKET_COUNTING: {{ $v.adapter.enableSocketCounting | toString | quote }}
ADAPTER_FAST_PRESENCE_TRANSITIONS: {{ $v.adapter.fastPresenceTransitions | toString | quote }}
{{- end }}
CACHE_DRIVER: {{ $v.cache.driver | quote }}
RATE_LIMITER_ENABLED: {{ $v.rateLimiter.enabled | toString | quote }}
RATE_LIMITER_DRIVER: {{ $v.rateLimiter.driver | quote }}
RATE_LIMITER_API_MAX_REQUESTS: {{ $v.rateLimiter.api.maxRequests | int | quote }}
RATE_LIMITER_API_WINDOW_SECONDS: {{ $v.rateLimiter.api.windowSeconds | int | quote }}
RATE_LIMITER_API_TRUST_HOPS: {{ $v.rateLimiter.api.trustHops | int | quote }}
RATE_LIMITER_WS_MAX_REQUESTS: {{ $v.rateLimiter.websocket.maxRequests | int | quote }}
RATE_LIMITER_WS_WINDOW_SECONDS: {{ $v.rateLimiter.websocket.windowSeconds | int | quote }}
RATE_LIMITER_WS_TRUST_HOPS: {{ $v.rateLimiter.websocket.trustHops | int | quote }}
QUEUE_DRIVER: {{ $v.webhooks.queueDriver | quote }}
SOCKUDO_CONTROL_PLANE_EMBEDDED: {{ include "sockudo.controlPlaneEmbedded" . | eq "true" | toString | quote }}
{{- if eq $v.appManager.driver "memory" }}
SOCKUDO_DEFAULT_APP_ENABLED: {{ $v.defaultApp.enabled | toString | quote }}
{{- end }}
{{- if include "sockudo.servesDefaultApp" . }}
SOCKUDO_DEFAULT_APP_ID: {{ $v.defaultApp.id | toString | quote }}
SOCKUDO_DEFAULT_APP_KEY: {{ $v.defaultApp.key | toString | quote }}
SOCKUDO_DEFAULT_APP_ENABLE_CLIENT_MESSAGES: {{ $v.defaultApp.enableClientMessages | toString | quote }}
SOCKUDO_DEFAULT_APP_ENABLE_USER_AUTHENTICATION: {{ $v.defaultApp.enableUserAuthentication | toString | quote }}
SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS: {{ $v.defaultApp.maxConnections | int | quote }}
SOCKUDO_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SECOND: {{ $v.defaultApp.maxClientEventsPerSecond | int | quote }}
{{- if not (kindIs "invalid" $v.defaultApp.maxBackendEventsPerSecond) }}
SOCKUDO_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SECOND: {{ $v.defaultApp.maxBackendEventsPerSecond | int | quote }}
{{- end }}
{{- with $v.defaultApp.allowedOrigins }}
SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS: {{ join "," . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment of sockudo-controlplane only (ConfigMap data). */}}
{{- define "sockudo.env.controlPlane" -}}
CONTROL_PLANE_GRPC_HOST: "0.0.0.0"
CONTROL_PLANE_REST_HOST: "0.0.0.0"
{{- /* The Events API spends the apps' backend-event budgets in the nodes' store. */}}
RATE_LIMITER_DRIVER: {{ .Values.rateLimiter.driver | quote }}
{{- end }}

{{/*
One env entry read from the Secret; pass (dict "root" $ "name" "VAR" "key" "secret-key"
"optional" bool).
*/}}
{{- define "sockudo.secretEnvEntry" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "sockudo.secretName" .root }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/*
Credentials of the bus and backends, from the Secret. With the generated Secret a variable is set
only when its value is; with existingSecret every credential of the backends in use is referenced
as optional, so the Secret may leave out what the installation does not need.
*/}}
{{- define "sockudo.env.credentials" -}}
{{- $v := .Values }}
{{- $existing := not (empty $v.existingSecret) }}
{{- if and (include "sockudo.usesRedis" .) (or $existing $v.redis.password) }}
{{ include "sockudo.secretEnvEntry" (dict "root" . "name" "DATABASE_REDIS_PASSWORD" "key" $v.secretKeys.redisPassword "optional" $existing) }}
{{- end }}
{{- if and (include "sockudo.usesRedisCluster" .) (or $existing $v.redisCluster.password) }}
{{ include "sockudo.secretEnvEntry" (dict "root" . "name" "DATABASE_REDIS_CLUSTER_PASSWORD" "key" $v.secretKeys.redisClusterPassword "optional" $existing) }}
{{- end }}
{{- if eq $v.adapter.driver "nats" }}
{{- if or $existing $v.nats.password }}
{{ include "sockudo.secretEnvEntry" (dict "root" . "name" "NATS_PASSWORD" "key" $v.secretKeys.natsPassword "optional" $existing) }}
{{- end }}
{{- if or $existing $v.nats.token }}
{{ include "sockudo.secretEnvEntry" (dict "root" . "name" "NATS_TOKEN" "key" $v.secretKeys.natsToken "optional" $existing) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes shared by the containers: a writable /tmp and the optional config file. */}}
{{- define "sockudo.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.configFile }}
- name: config-file
  configMap:
    name: {{ include "sockudo.configFileName" . }}
    items:
      - key: config.json
        path: config.json
{{- end }}
{{- end }}

{{- define "sockudo.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.configFile }}
- name: config-file
  mountPath: /etc/sockudo
  readOnly: true
{{- end }}
{{- end }}

{{/*
"from" of a NetworkPolicy rule: the given peers plus this release's `helm test` pod; nothing
(any source) when no peer is given. Pass (dict "root" $ "peers" list).
*/}}
{{- define "sockudo.networkPolicyFrom" -}}
{{- if .peers }}
from:
  {{- toYaml .peers | nindent 2 }}
  - podSelector:
      matchLabels:
        {{- include "sockudo.selectorLabels" (dict "root" .root "component" "test") | nindent 8 }}
{{- end }}
{{- end }}
