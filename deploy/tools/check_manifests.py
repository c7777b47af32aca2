#!/usr/bin/env python3
"""Structural rules for Galaxy's rendered Kubernetes manifests (the output of `kubectl kustomize`).

The schema validation (kubernetes-validate) says the manifests are well-formed Kubernetes objects;
this says they are the deployment docs/deploy.md describes:

- every Deployment and StatefulSet: liveness and readiness probes, CPU and memory requests and limits,
  non-root, seccomp RuntimeDefault, read-only root filesystem, no privilege escalation, all
  capabilities dropped, no service-account token;
- the seed's services on the seed's ports, gRPC readiness probes on the gRPC services, /livez and
  /readyz on the HTTP ones; tick-engine and physics one replica with the Recreate strategy;
- HorizontalPodAutoscalers for api-gateway and players (and no fixed replica count fighting them);
- the NGINX Ingress routes / /api /ws /admin for the host, WebSocket timeouts of at least 3600 s;
- no Secret with values, no secret-looking environment variable with a literal value, no image
  without a tag or with `latest`;
- NetworkPolicies: default deny; only the ingress controller reaches web-client, api-gateway and
  admin-dashboard; only the services reach each other (on their gRPC and metrics ports) and
  PostgreSQL and Redis.

Usage:
  check_manifests.py [--host galaxy.example.com] [--external-datastores] RENDERED.yaml
  check_manifests.py --self-test RENDERED.yaml   # each deliberate breakage must be caught

Needs PyYAML. Exit status 0 when every rule holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections import defaultdict
from typing import Any, Callable

import yaml

GRPC_SERVICES = {"tick-engine": 8001, "physics": 8002, "players": 8003, "galaxy": 8004}
HTTP_SERVICES = {"api-gateway": 8000, "admin-dashboard": 8080}
WEB_SERVICES = {"web-client": 80}
DATASTORES = {"postgres": 5432, "redis": 6379}
RUST_SERVICES = {**GRPC_SERVICES, **HTTP_SERVICES}
BINARIES = {name: f"galaxy-{name}" for name in RUST_SERVICES}
SINGLETONS = ("tick-engine", "physics")
AUTOSCALED = ("api-gateway", "players")
EDGE = ("web-client", "api-gateway", "admin-dashboard")
METRICS_PORT = 9090
WS_TIMEOUT_MIN = 3600
PEER_URLS = {
    "TICK_ENGINE_URL": "http://tick-engine:8001",
    "PHYSICS_URL": "http://physics:8002",
    "PLAYERS_URL": "http://players:8003",
    "GALAXY_URL": "http://galaxy:8004",
}
ROUTES = {"/": "web-client", "/api": "api-gateway", "/ws": "api-gateway", "/admin": "admin-dashboard"}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "DATABASE_URL", "REDIS_URL", "REDISCLI_AUTH", "API_KEY")
INGRESS_CONTROLLER_NS = "ingress-nginx"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass", "PersistentVolume",
                  "StorageClass", "CustomResourceDefinition", "PriorityClass"}


def load(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def name_of(doc: dict[str, Any]) -> str:
    return str(doc.get("metadata", {}).get("name", "?"))


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"].get("metadata", {}).get("labels", {}) or {}
    return doc["spec"]["template"].get("metadata", {}).get("labels", {}) or {}


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics; an empty selector matches everything."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (an implicit :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the :latest tag"
    return None


def as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip().rstrip("s"))
    except (TypeError, ValueError):
        return None


def check(docs: list[dict[str, Any]], host: str, external_datastores: bool) -> list[str]:
    errors: list[str] = []
    err = errors.append
    objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for doc in docs:
        if not isinstance(doc, dict) or not doc.get("kind") or not name_of(doc) or name_of(doc) == "?":
            err(f"an object without kind or metadata.name: {str(doc)[:80]}")
            continue
        objects[doc["kind"]][name_of(doc)] = doc

    # Namespace: one, enforcing the restricted Pod Security Standard; everything else inside it.
    namespaces = list(objects["Namespace"])
    if len(namespaces) != 1:
        err(f"expected exactly one Namespace, found {namespaces}")
    else:
        namespace = namespaces[0]
        labels = objects["Namespace"][namespace]["metadata"].get("labels", {}) or {}
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            err(f"Namespace {namespace}: label pod-security.kubernetes.io/enforce must be 'restricted'")
        for doc in docs:
            if doc.get("kind") in CLUSTER_SCOPED:
                continue
            if doc.get("metadata", {}).get("namespace") != namespace:
                err(f"{doc.get('kind')} {name_of(doc)}: not in namespace {namespace}")

    # Secrets: never committed values.
    for name, doc in objects["Secret"].items():
        if doc.get("data") or doc.get("stringData"):
            err(f"Secret {name}: carries literal data; secrets are created in the cluster, never committed")
    for name, doc in objects["ConfigMap"].items():
        for key in (doc.get("data") or {}):
            if any(word in key.upper() for word in SECRET_WORDS):
                err(f"ConfigMap {name}: key {key} looks secret; it belongs in the galaxy-secrets Secret")

    # Workloads: probes, resources, security context, images.
    workloads = {name: doc for kind in WORKLOAD_KINDS for name, doc in objects[kind].items()}
    for name, doc in workloads.items():
        where = f"{doc['kind']} {name}"
        spec = pod_spec(doc)
        if spec.get("automountServiceAccountToken") is not False:
            err(f"{where}: automountServiceAccountToken must be false")
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(flag):
                err(f"{where}: {flag} must not be set")
        pod_sc = spec.get("securityContext") or {}
        if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            err(f"{where}: pod securityContext.seccompProfile.type must be RuntimeDefault")
        if pod_sc.get("runAsUser") == 0:
            err(f"{where}: pod securityContext.runAsUser is 0 (root)")
        containers = spec.get("containers") or []
        if not containers:
            err(f"{where}: no containers")
        for container in containers + (spec.get("initContainers") or []):
            cwhere = f"{where} container {container.get('name')}"
            is_init = container in (spec.get("initContainers") or [])
            problem = image_problem(str(container.get("image", "")))
            if problem:
                err(f"{cwhere}: image {container.get('image')!r} {problem}")
            sc = container.get("securityContext") or {}
            if not (sc.get("runAsNonRoot") is True or (pod_sc.get("runAsNonRoot") is True and sc.get("runAsNonRoot") is not False)):
                err(f"{cwhere}: runAsNonRoot must be true")
            if sc.get("runAsUser") == 0:
                err(f"{cwhere}: runAsUser is 0 (root)")
            if sc.get("allowPrivilegeEscalation") is not False:
                err(f"{cwhere}: securityContext.allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                err(f"{cwhere}: securityContext.readOnlyRootFilesystem must be true")
            if sc.get("privileged"):
                err(f"{cwhere}: privileged")
            caps = sc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                err(f"{cwhere}: securityContext.capabilities.drop must contain ALL")
            if caps.get("add"):
                err(f"{cwhere}: adds capabilities {caps.get('add')}")
            if (sc.get("seccompProfile") or {}).get("type") not in (None, "RuntimeDefault"):
                err(f"{cwhere}: container seccompProfile overrides RuntimeDefault")
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    if not (resources.get(part) or {}).get(res):
                        err(f"{cwhere}: resources.{part}.{res} missing")
            if not is_init:
                for probe in ("livenessProbe", "readinessProbe"):
                    if not container.get(probe):
                        err(f"{cwhere}: {probe} missing")
            for env in container.get("env") or []:
                if "value" in env and any(word in env.get("name", "").upper() for word in SECRET_WORDS):
                    err(f"{cwhere}: env {env['name']} has a literal value; take it from the Secret")

    # The seed's services.
    expected = {**RUST_SERVICES, **WEB_SERVICES}
    for name in expected:
        if name not in objects["Deployment"]:
            err(f"Deployment {name} missing")
    for name in DATASTORES:
        present = name in objects["StatefulSet"]
        if external_datastores and present:
            err(f"StatefulSet {name} present although the datastores are external")
        if not external_datastores and not present:
            err(f"StatefulSet {name} missing")
    if not external_datastores:
        expected.update(DATASTORES)

    def container_of(name: str) -> dict[str, Any] | None:
        doc = workloads.get(name)
        if not doc:
            return None
        containers = pod_spec(doc).get("containers") or []
        return containers[0] if containers else None

    def container_port(container: dict[str, Any], ref: Any) -> int | None:
        for port in container.get("ports") or []:
            if ref in (port.get("name"), port.get("containerPort")):
                return port.get("containerPort")
        return ref if isinstance(ref, int) else None

    for name, port in RUST_SERVICES.items():
        container = container_of(name)
        if not container:
            continue
        where = f"Deployment {name}"
        command = container.get("command") or []
        if not command or (not str(command[0]).endswith("/" + BINARIES[name]) and command[0] != BINARIES[name]):
            err(f"{where}: command must run {BINARIES[name]}, got {command}")
        env = {item.get("name"): item for item in container.get("env") or []}
        if (env.get("LISTEN_ADDR") or {}).get("value") != f"0.0.0.0:{port}":
            err(f"{where}: LISTEN_ADDR must be 0.0.0.0:{port}")
        for var in ("DATABASE_URL", "REDIS_URL"):
            if not ((env.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef"):
                err(f"{where}: {var} must come from a Secret (secretKeyRef)")
        if not any(str((ref.get("configMapRef") or {}).get("name", "")).startswith("galaxy-config")
                   for ref in container.get("envFrom") or []):
            err(f"{where}: envFrom must include the galaxy-config ConfigMap")
        ports = {p.get("containerPort") for p in container.get("ports") or []}
        if port not in ports:
            err(f"{where}: containerPort {port} missing")
        readiness = container.get("readinessProbe") or {}
        liveness = container.get("livenessProbe") or {}
        if name in GRPC_SERVICES:
            if (readiness.get("grpc") or {}).get("port") != port:
                err(f"{where}: readinessProbe must be a gRPC probe on port {port}")
            if METRICS_PORT not in ports:
                err(f"{where}: metrics containerPort {METRICS_PORT} missing")
            live_ok = (liveness.get("grpc") or {}).get("port") == port or (
                (liveness.get("httpGet") or {}).get("path") == "/livez"
                and container_port(container, (liveness.get("httpGet") or {}).get("port")) == METRICS_PORT)
            if not live_ok:
                err(f"{where}: livenessProbe must be gRPC on {port} or GET /livez on {METRICS_PORT}")
        else:
            for probe, path in ((readiness, "/readyz"), (liveness, "/livez")):
                http = probe.get("httpGet") or {}
                if http.get("path") != path or container_port(container, http.get("port")) != port:
                    err(f"{where}: probe must be GET {path} on port {port}, got {http or probe}")

    # One tick loop and one world: never two at once, not even during a rollout.
    for name in SINGLETONS:
        doc = objects["Deployment"].get(name)
        if not doc:
            continue
        if doc["spec"].get("replicas") != 1:
            err(f"Deployment {name}: replicas must be exactly 1, got {doc['spec'].get('replicas')}")
        if (doc["spec"].get("strategy") or {}).get("type") != "Recreate":
            err(f"Deployment {name}: strategy must be Recreate (a rolling update runs two at once)")

    # Autoscaling.
    hpa_targets = {}
    for name, doc in objects["HorizontalPodAutoscaler"].items():
        ref = doc["spec"].get("scaleTargetRef") or {}
        hpa_targets[ref.get("name")] = doc
        if ref.get("kind") != "Deployment" or ref.get("name") not in objects["Deployment"]:
            err(f"HorizontalPodAutoscaler {name}: targets a missing Deployment {ref}")
        low, high = doc["spec"].get("minReplicas", 1), doc["spec"].get("maxReplicas", 0)
        if not 1 <= low <= high:
            err(f"HorizontalPodAutoscaler {name}: minReplicas {low} / maxReplicas {high} out of order")
    for name in AUTOSCALED:
        if name not in hpa_targets:
            err(f"HorizontalPodAutoscaler for {name} missing")
    for name in hpa_targets:
        if name in SINGLETONS:
            err(f"{name} is a singleton and must not be autoscaled")
        doc = objects["Deployment"].get(name)
        if doc and "replicas" in doc["spec"]:
            err(f"Deployment {name}: has spec.replicas although an HPA scales it (they would fight)")
    for name, doc in objects["PodDisruptionBudget"].items():
        for single in SINGLETONS:
            if single in workloads and selector_matches(doc["spec"].get("selector"), pod_labels(workloads[single])):
                err(f"PodDisruptionBudget {name}: covers the singleton {single} (would block node drains)")

    # Services on the seed's ports, selecting their pods, reaching a container port.
    for name, port in expected.items():
        service = objects["Service"].get(name)
        if not service:
            err(f"Service {name} missing")
            continue
        ports = service["spec"].get("ports") or []
        match = [p for p in ports if p.get("port") == port]
        if not match:
            err(f"Service {name}: port {port} missing (has {[p.get('port') for p in ports]})")
        workload = workloads.get(name)
        if workload:
            if not service["spec"].get("selector") or not selector_matches(
                    {"matchLabels": service["spec"].get("selector")}, pod_labels(workload)):
                err(f"Service {name}: selector does not select the {name} pods")
            container = container_of(name)
            for p in match:
                target = p.get("targetPort", p.get("port"))
                if container and container_port(container, target) is None:
                    err(f"Service {name}: targetPort {target} is no container port")

    # Shared configuration.
    configs = [doc for name, doc in objects["ConfigMap"].items() if name.startswith("galaxy-config")]
    if len(configs) != 1:
        err(f"expected one galaxy-config ConfigMap, found {len(configs)}")
    else:
        data = configs[0].get("data") or {}
        for key, value in PEER_URLS.items():
            if data.get(key) != value:
                err(f"ConfigMap galaxy-config: {key} must be {value}, got {data.get(key)!r}")
        origins = [o.strip() for o in str(data.get("GALAXY_ALLOWED_ORIGINS", "")).split(",")]
        if f"https://{host}" not in origins:
            err(f"ConfigMap galaxy-config: GALAXY_ALLOWED_ORIGINS must include https://{host}")

    # Ingress.
    routes: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for name, doc in objects["Ingress"].items():
        spec = doc.get("spec") or {}
        if spec.get("ingressClassName") != "nginx":
            err(f"Ingress {name}: ingressClassName must be nginx")
        if spec.get("defaultBackend"):
            err(f"Ingress {name}: no defaultBackend (routes are per path)")
        tls_hosts = {h for tls in spec.get("tls") or [] for h in tls.get("hosts") or []}
        annotations = doc["metadata"].get("annotations") or {}
        for rule in spec.get("rules") or []:
            if rule.get("host") != host:
                err(f"Ingress {name}: host {rule.get('host')!r}, expected {host!r}")
            if rule.get("host") not in tls_hosts:
                err(f"Ingress {name}: host {rule.get('host')!r} has no TLS")
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                routes[path.get("path")].append((name, backend))
                if path.get("pathType") != "Prefix":
                    err(f"Ingress {name}: path {path.get('path')} should be pathType Prefix")
                if backend.get("name") == "api-gateway":
                    for key in ("proxy-read-timeout", "proxy-send-timeout"):
                        value = as_int(annotations.get(f"nginx.ingress.kubernetes.io/{key}"))
                        if value is None or value < WS_TIMEOUT_MIN:
                            err(f"Ingress {name}: nginx.ingress.kubernetes.io/{key} must be >= {WS_TIMEOUT_MIN} "
                                f"for WebSockets on {path.get('path')}, got {annotations.get(f'nginx.ingress.kubernetes.io/{key}')!r}")
                service = objects["Service"].get(backend.get("name"))
                if not service:
                    err(f"Ingress {name}: backend Service {backend.get('name')!r} missing")
                else:
                    want = backend.get("port") or {}
                    if not any(want.get("name") == p.get("name") or want.get("number") == p.get("port")
                               for p in service["spec"].get("ports") or []):
                        err(f"Ingress {name}: Service {backend.get('name')} has no port {want}")
    for path, service in ROUTES.items():
        found = routes.get(path) or []
        if not found:
            err(f"Ingress: no route for {host}{path}")
        for name, backend in found:
            if backend.get("name") != service:
                err(f"Ingress {name}: {path} goes to {backend.get('name')}, expected {service}")

    # Datastores.
    if not external_datastores:
        redis, postgres = workloads.get("redis"), workloads.get("postgres")
        for doc, mount in ((redis, "/data"), (postgres, "/var/lib/postgresql/data")):
            if not doc:
                continue
            claims = {c["metadata"]["name"] for c in doc["spec"].get("volumeClaimTemplates") or []}
            container = pod_spec(doc)["containers"][0]
            mounted = {m.get("name") for m in container.get("volumeMounts") or [] if m.get("mountPath") == mount}
            if not claims & mounted:
                err(f"StatefulSet {name_of(doc)}: {mount} must be a PersistentVolumeClaim from volumeClaimTemplates")
        if redis:
            container = pod_spec(redis)["containers"][0]
            args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
            if not any(a == "--appendonly" and i + 1 < len(args) and args[i + 1] == "yes" for i, a in enumerate(args)):
                err("StatefulSet redis: must run with --appendonly yes (AOF persistence)")
            if not str(container.get("image", "")).startswith("redis:7") or "alpine" not in str(container.get("image")):
                err(f"StatefulSet redis: image must be redis:7-alpine, got {container.get('image')}")
        if postgres:
            image = str(pod_spec(postgres)["containers"][0].get("image", ""))
            if not image.startswith("postgres:16") or "alpine" not in image:
                err(f"StatefulSet postgres: image must be postgres:16-alpine, got {image}")

    errors.extend(check_network_policies(objects, workloads, external_datastores))
    return errors


def check_network_policies(objects: dict[str, dict[str, dict[str, Any]]], workloads: dict[str, dict[str, Any]],
                           external_datastores: bool) -> list[str]:
    errors: list[str] = []
    err = errors.append
    policies = objects["NetworkPolicy"]
    if not any(doc["spec"].get("podSelector") in ({}, None) and "Ingress" in (doc["spec"].get("policyTypes") or [])
               and not doc["spec"].get("ingress") for doc in policies.values()):
        err("NetworkPolicy: no default-deny ingress policy (podSelector {} with no ingress rules)")
    pods = {name: pod_labels(doc) for name, doc in workloads.items()}
    controller = {"kubernetes.io/metadata.name": INGRESS_CONTROLLER_NS}
    services = set(RUST_SERVICES)

    for target, labels in pods.items():
        sources: set[str] = set()
        ports: set[Any] = set()
        for pname, doc in policies.items():
            spec = doc["spec"]
            if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]):
                continue
            if not selector_matches(spec.get("podSelector") or {}, labels):
                continue
            for rule in spec.get("ingress") or []:
                peers = rule.get("from")
                rule_ports = {p.get("port") for p in rule.get("ports") or []} or {"any"}
                ports |= rule_ports
                if not peers:
                    err(f"NetworkPolicy {pname}: a rule for {target} admits every source (no 'from')")
                    continue
                for peer in peers:
                    if "ipBlock" in peer:
                        sources.add("ipBlock")
                    elif "namespaceSelector" in peer:
                        ns = peer["namespaceSelector"] or {}
                        if (ns.get("matchLabels") or {}) == controller and not ns.get("matchExpressions") and peer.get("podSelector"):
                            sources.add("ingress-controller")
                        else:
                            sources.add(f"namespaces {ns}")
                    else:
                        sources |= {name for name, other in pods.items() if selector_matches(peer.get("podSelector") or {}, other)}
        if target in EDGE:
            wrong = sources - {"ingress-controller"}
            if wrong:
                err(f"NetworkPolicy: {target} is reachable from {sorted(wrong)}; only the ingress controller may reach it")
            if "ingress-controller" not in sources:
                err(f"NetworkPolicy: the ingress controller cannot reach {target}")
        elif target in GRPC_SERVICES:
            wrong = sources - services
            if wrong:
                err(f"NetworkPolicy: {target} is reachable from {sorted(wrong)}; only the services may reach it")
            if GRPC_SERVICES[target] not in ports:
                err(f"NetworkPolicy: {target}'s gRPC port {GRPC_SERVICES[target]} is not open to the services")
            if "any" in ports:
                err(f"NetworkPolicy: {target} is open on every port")
        elif target in DATASTORES:
            wrong = sources - services
            if wrong:
                err(f"NetworkPolicy: {target} is reachable from {sorted(wrong)}; only the services may reach it")
            if ports != {DATASTORES[target]}:
                err(f"NetworkPolicy: {target} must be open on port {DATASTORES[target]} only, got {sorted(map(str, ports))}")
            if not sources:
                err(f"NetworkPolicy: no service can reach {target}")
    return errors


# ---------------------------------------------------------------------------------------------
# Self-test: every rule above must actually fire. Each mutation breaks one thing in a copy of a
# valid render and names a fragment the resulting error must contain.


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == kind and (name_of(doc) == name or name_of(doc).startswith(name + "-")):
            return doc
    raise KeyError(f"{kind} {name} not in the render")


def first_container(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return pod_spec(find(docs, kind, name))["containers"][0]


def ingress_with(docs: list[dict[str, Any]], path: str) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == "Ingress":
            for rule in doc["spec"].get("rules") or []:
                if any(p.get("path") == path for p in rule["http"]["paths"]):
                    return doc
    raise KeyError(f"no Ingress with {path}")


def mutations() -> list[tuple[str, str, Callable[[list[dict[str, Any]]], None]]]:
    def add_secret(docs):
        namespace = name_of(next(d for d in docs if d["kind"] == "Namespace"))
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oops", "namespace": namespace},
                     "stringData": {"DATABASE_URL": "postgres://galaxy:hunter2@postgres/galaxy"}})

    def open_redis(docs):
        find(docs, "NetworkPolicy", "redis-from-services")["spec"]["ingress"][0]["from"] = [{"podSelector": {}}]

    def open_gateway(docs):
        find(docs, "NetworkPolicy", "api-gateway-from-ingress")["spec"]["ingress"].append({"ports": [{"port": 8000}]})

    def drop_default_deny(docs):
        docs.remove(find(docs, "NetworkPolicy", "default-deny-ingress"))

    def drop_web_route(docs):
        doc = ingress_with(docs, "/")
        for rule in doc["spec"]["rules"]:
            rule["http"]["paths"] = [p for p in rule["http"]["paths"] if p["path"] != "/"]

    def drop_hpa(docs):
        docs.remove(find(docs, "HorizontalPodAutoscaler", "players"))

    return [
        ("a Deployment without a readiness probe", "readinessProbe missing",
         lambda d: first_container(d, "Deployment", "players").pop("readinessProbe")),
        ("a Deployment without limits", "resources.limits",
         lambda d: first_container(d, "Deployment", "api-gateway")["resources"].pop("limits")),
        ("two tick-engines", "replicas must be exactly 1",
         lambda d: find(d, "Deployment", "tick-engine")["spec"].__setitem__("replicas", 2)),
        ("tick-engine rolling update", "Recreate",
         lambda d: find(d, "Deployment", "tick-engine")["spec"].__setitem__("strategy", {"type": "RollingUpdate"})),
        ("physics rolling update", "Recreate",
         lambda d: find(d, "Deployment", "physics")["spec"].__setitem__("strategy", {"type": "RollingUpdate"})),
        ("a 60 s WebSocket timeout", "proxy-read-timeout must be >= 3600",
         lambda d: ingress_with(d, "/ws")["metadata"]["annotations"].__setitem__(
             "nginx.ingress.kubernetes.io/proxy-read-timeout", "60")),
        ("no WebSocket send timeout", "proxy-send-timeout must be >= 3600",
         lambda d: ingress_with(d, "/ws")["metadata"]["annotations"].pop("nginx.ingress.kubernetes.io/proxy-send-timeout")),
        ("a Secret with values", "carries literal data", add_secret),
        ("a literal DATABASE_URL", "has a literal value",
         lambda d: first_container(d, "Deployment", "galaxy")["env"].append(
             {"name": "DATABASE_URL", "value": "postgres://galaxy:pw@postgres/galaxy"})),
        ("an image tagged latest", "uses the :latest tag",
         lambda d: first_container(d, "Deployment", "galaxy").__setitem__("image", "registry.example.com/galaxy/galaxy-services:latest")),
        ("an image without a tag", "has no tag",
         lambda d: first_container(d, "Deployment", "web-client").__setitem__("image", "registry.example.com/galaxy/galaxy-web-client")),
        ("a writable root filesystem", "readOnlyRootFilesystem must be true",
         lambda d: first_container(d, "Deployment", "web-client")["securityContext"].__setitem__("readOnlyRootFilesystem", False)),
        ("privilege escalation", "allowPrivilegeEscalation must be false",
         lambda d: first_container(d, "Deployment", "admin-dashboard")["securityContext"].pop("allowPrivilegeEscalation")),
        ("capabilities kept", "capabilities.drop must contain ALL",
         lambda d: first_container(d, "Deployment", "physics")["securityContext"].pop("capabilities")),
        ("no seccomp profile", "seccompProfile.type must be RuntimeDefault",
         lambda d: pod_spec(find(d, "Deployment", "tick-engine"))["securityContext"].pop("seccompProfile")),
        ("root allowed", "runAsNonRoot must be true",
         lambda d: (pod_spec(find(d, "Deployment", "galaxy"))["securityContext"].pop("runAsNonRoot"),
                    first_container(d, "Deployment", "galaxy")["securityContext"].pop("runAsNonRoot"))),
        ("a TCP readiness probe on a gRPC service", "readinessProbe must be a gRPC probe",
         lambda d: first_container(d, "Deployment", "physics").__setitem__("readinessProbe", {"tcpSocket": {"port": 8002}})),
        ("gateway readiness on the wrong path", "probe must be GET /readyz",
         lambda d: first_container(d, "Deployment", "api-gateway")["readinessProbe"]["httpGet"].__setitem__("path", "/")),
        ("Redis without AOF", "--appendonly yes",
         lambda d: first_container(d, "StatefulSet", "redis").__setitem__(
             "args", [a for a in first_container(d, "StatefulSet", "redis")["args"] if a not in ("--appendonly", "yes")])),
        ("Redis open to every pod", "redis is reachable from", open_redis),
        ("the gateway open to every source", "admits every source", open_gateway),
        ("no default deny", "no default-deny", drop_default_deny),
        ("no route to the web client", "no route for", drop_web_route),
        ("no players autoscaler", "HorizontalPodAutoscaler for players missing", drop_hpa),
        ("the gateway on the wrong Service port", "port 8000 missing",
         lambda d: find(d, "Service", "api-gateway")["spec"]["ports"][0].__setitem__("port", 80)),
        ("a wrong peer address", "PHYSICS_URL must be",
         lambda d: find(d, "ConfigMap", "galaxy-config")["data"].__setitem__("PHYSICS_URL", "http://physics:9999")),
    ]


def self_test(docs: list[dict[str, Any]], host: str) -> int:
    baseline = check(docs, host, False)
    if baseline:
        print("self-test: the unmodified render must pass first:")
        for line in baseline:
            print(f"  {line}")
        return 1
    missed = 0
    cases = mutations()
    for label, fragment, mutate in cases:
        broken = copy.deepcopy(docs)
        mutate(broken)
        found = check(broken, host, False)
        if any(fragment in line for line in found):
            print(f"  caught: {label}")
        else:
            missed += 1
            print(f"  MISSED: {label} (expected an error containing {fragment!r}; got {found})")
    print(f"self-test: {len(cases) - missed} of {len(cases)} deliberate breakages caught")
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rendered", help="output of kubectl kustomize")
    parser.add_argument("--host", default="galaxy.example.com", help="the Ingress host this render serves")
    parser.add_argument("--external-datastores", action="store_true",
                        help="the render uses managed PostgreSQL/Redis (no StatefulSets expected)")
    parser.add_argument("--self-test", action="store_true", help="check that deliberate breakages are caught")
    args = parser.parse_args()
    docs = load(args.rendered)
    if args.self_test:
        return self_test(docs, args.host)
    errors = check(docs, args.host, args.external_datastores)
    for line in errors:
        print(f"{args.rendered}: {line}")
    if errors:
        print(f"{args.rendered}: {len(errors)} rule(s) broken")
        return 1
    kinds = defaultdict(int)
    for doc in docs:
        kinds[doc["kind"]] += 1
    print(f"{args.rendered}: structural rules hold for {len(docs)} objects "
          f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
