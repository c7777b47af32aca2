#!/usr/bin/env python3
"""The rules deploy/docker claims, checked offline (hadolint and checkov run beside this in
scripts/deploy-test; these are the project's own rules they do not know):

- both images: multi-stage; every base image pinned to an explicit version tag (never `latest`,
  never a bare name, never a tag hidden in a build ARG); the final stage runs as a numeric non-root
  USER equal to the runAsUser of its Kubernetes pods; no remote ADD, no `curl | sh`;
- services image: cargo-chef (pinned) prepare/cook, `cargo build --release --locked`, a slim runtime
  stage with every deployed binary and galaxy-admin (and no toolchain), the ports the manifests use;
- web-client image: `npm ci` + `npm run build` on node, served from nginx:*-alpine with our nginx.conf;
- each Dockerfile has its <name>.dockerignore, keeping what the build needs and dropping what it must not send;
- nginx.conf: port 8080 (the pods' containerPort), SPA fallback to index.html, year-long immutable
  caching for /assets/ only, no-cache otherwise, gzip, pid and temp files under /tmp (read-only root).
  With an `nginx` binary on the machine it is also syntax-checked and served, and the headers checked.

Usage: check_dockerfiles.py [REPO_ROOT]. Exit status 0 when every rule holds. Needs PyYAML.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

BINARIES = ["galaxy-tick-engine", "galaxy-physics", "galaxy-players", "galaxy-galaxy",
            "galaxy-api-gateway", "galaxy-admin-dashboard", "galaxy-admin"]
SERVICE_PORTS = {8000, 8001, 8002, 8003, 8004, 8080, 9090}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    buffer = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            keyword, _, rest = buffer.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
        buffer = ""
    return result


def stages(instrs: list[tuple[str, str]]) -> list[dict]:
    out: list[dict] = []
    for keyword, rest in instrs:
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            image = words[0]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            out.append({"image": image, "alias": alias, "body": []})
        elif out:
            out[-1]["body"].append((keyword, rest))
    return out


def run_as_user(manifest: Path) -> int | None:
    for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
        if doc and doc.get("kind") == "Deployment":
            return (doc["spec"]["template"]["spec"].get("securityContext") or {}).get("runAsUser")
    return None


def check_common(name: str, path: Path, errors: list[str], expected_uid: int | None) -> list[dict]:
    if not path.is_file():
        errors.append(f"{name}: missing")
        return []
    instrs = instructions(path)
    st = stages(instrs)
    if len(st) < 2:
        errors.append(f"{name}: must be a multi-stage build (found {len(st)} stage)")
    aliases = {s["alias"] for s in st if s["alias"]}
    for s in st:
        image = s["image"]
        if image in aliases:
            continue
        if "$" in image:
            errors.append(f"{name}: FROM {image}: the base image tag must be written out, not taken from an ARG")
            continue
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        if ":" not in last:
            errors.append(f"{name}: FROM {image}: no tag (pin a version)")
        elif last.split(":", 1)[1] in ("latest", "stable", "mainline", "alpine", "slim"):
            errors.append(f"{name}: FROM {image}: a floating tag (pin a version)")
        elif not re.search(r"\d", last.split(":", 1)[1]) and not re.search(r"(bookworm|trixie|bullseye)", last):
            errors.append(f"{name}: FROM {image}: the tag names no version")
    for keyword, rest in instrs:
        if keyword == "ADD" and re.search(r"https?://", rest):
            errors.append(f"{name}: ADD from a URL ({rest}); fetch in a RUN with checks, or COPY")
        if keyword == "RUN" and re.search(r"(curl|wget)[^|]*\|\s*(ba)?sh", rest):
            errors.append(f"{name}: pipes a download into a shell: {rest}")
        if keyword == "RUN" and re.search(r"\bsudo\b", rest):
            errors.append(f"{name}: uses sudo")
    if st:
        final = st[-1]
        users = [rest for keyword, rest in final["body"] if keyword == "USER"]
        if not users:
            errors.append(f"{name}: the final stage has no USER (it would run as root)")
        else:
            user = users[-1].split(":")[0]
            if not user.isdigit():
                errors.append(f"{name}: USER {users[-1]} must be numeric so Kubernetes' runAsNonRoot can verify it")
            elif int(user) == 0:
                errors.append(f"{name}: the final USER is root")
            elif expected_uid is not None and int(user) != expected_uid:
                errors.append(f"{name}: USER {user} differs from the pods' runAsUser {expected_uid}")
    return st


def check_dockerignore(name: str, path: Path, must_exclude: list[str], must_keep: list[str], errors: list[str]) -> None:
    if not path.is_file():
        errors.append(f"{name}: missing (BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile)")
        return
    lines = [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")]
    for pattern in must_exclude:
        if pattern not in lines:
            errors.append(f"{name}: must exclude {pattern}")
    for pattern in must_keep:
        if pattern in lines or pattern + "/" in lines:
            errors.append(f"{name}: must not exclude {pattern} (the build needs it)")


def check_services(root: Path, errors: list[str]) -> None:
    name = "deploy/docker/services.Dockerfile"
    path = root / name
    uid = run_as_user(root / "deploy/k8s/base/tick-engine.yaml")
    st = check_common(name, path, errors, uid)
    if not st:
        return
    text = " ".join(rest for s in st for _, rest in s["body"])
    if not re.search(r"cargo install cargo-chef --locked --version \d+\.\d+\.\d+", text):
        errors.append(f"{name}: cargo-chef must be installed with --locked and a pinned --version")
    for needle in ("cargo chef prepare --recipe-path recipe.json", "cargo chef cook --release --locked --recipe-path recipe.json",
                   "cargo build --release --locked"):
        if needle not in text:
            errors.append(f"{name}: missing `{needle}`")
    cook_stage = next((s for s in st if any("cargo chef cook" in r for _, r in s["body"])), None)
    if cook_stage:
        body = cook_stage["body"]
        cook_at = next(i for i, (_, r) in enumerate(body) if "cargo chef cook" in r)
        if any(k == "COPY" and r.split()[0] == "." for k, r in body[:cook_at]):
            errors.append(f"{name}: the sources are copied before `cargo chef cook`, defeating the dependency cache")
    final = st[-1]
    if "slim" not in final["image"] and "distroless" not in final["image"]:
        errors.append(f"{name}: the runtime stage should be a slim image, got {final['image']}")
    if final["image"].startswith("rust:"):
        errors.append(f"{name}: the runtime stage must not be the Rust toolchain image")
    if not any(k == "COPY" and "--from=" in r for k, r in final["body"]):
        errors.append(f"{name}: the runtime stage must copy the binaries from the build stage")
    build = next((r for s in st for _, r in s["body"] if "cargo build --release --locked" in r), "")
    installs = re.search(r"for bin in([^;]*);", build)
    for binary in BINARIES:
        if not re.search(rf"--bin {re.escape(binary)}(?![\w-])", build):
            errors.append(f"{name}: binary {binary} is not built (`--bin {binary}`)")
        if not installs or binary not in installs.group(1).split():
            errors.append(f"{name}: binary {binary} is not put in the image (the `for bin in` list)")
    if re.search(r"for bin in[^;]*(?<![\w-])galaxy(?![\w-])", text):
        errors.append(f"{name}: the one-process `galaxy` binary is for local play, not the deployed image")
    exposed = {int(p.split("/")[0]) for k, r in final["body"] if k == "EXPOSE" for p in r.split()}
    if not SERVICE_PORTS <= exposed:
        errors.append(f"{name}: EXPOSE should list {sorted(SERVICE_PORTS)}, has {sorted(exposed)}")
    check_dockerignore("deploy/docker/services.Dockerfile.dockerignore", root / "deploy/docker/services.Dockerfile.dockerignore",
                       ["target", "**/target", ".git", "web-client/node_modules"],
                       ["data", "Cargo.lock", "Cargo.toml", "engine", "services", "sim", "src"], errors)


def check_web(root: Path, errors: list[str]) -> None:
    name = "deploy/docker/web-client.Dockerfile"
    path = root / name
    uid = run_as_user(root / "deploy/k8s/base/web-client.yaml")
    st = check_common(name, path, errors, uid)
    if not st:
        return
    if not st[0]["image"].startswith("node:"):
        errors.append(f"{name}: the build stage should be a node image, got {st[0]['image']}")
    final = st[-1]
    if not (final["image"].startswith("nginx:") and final["image"].endswith("alpine")):
        errors.append(f"{name}: the runtime stage must be nginx:<version>-alpine, got {final['image']}")
    text = " ".join(rest for s in st for _, rest in s["body"])
    for needle in ("npm ci", "npm run build", "web-client/package-lock.json"):
        if needle not in text:
            errors.append(f"{name}: missing `{needle}`")
    copies = [r for k, r in final["body"] if k == "COPY"]
    if not any("deploy/docker/nginx.conf" in r and r.endswith("/etc/nginx/nginx.conf") for r in copies):
        errors.append(f"{name}: must install deploy/docker/nginx.conf as /etc/nginx/nginx.conf")
    if not any("--from=" in r and "/dist/" in r and "/usr/share/nginx/html" in r for r in copies):
        errors.append(f"{name}: must copy the Vite build (dist/) into /usr/share/nginx/html")
    exposed = {r for k, r in final["body"] if k == "EXPOSE"}
    if "8080" not in exposed:
        errors.append(f"{name}: must EXPOSE 8080")
    check_dockerignore("deploy/docker/web-client.Dockerfile.dockerignore", root / "deploy/docker/web-client.Dockerfile.dockerignore",
                       ["web-client/node_modules", "web-client/dist"], [], errors)


def check_nginx_static(root: Path, errors: list[str]) -> str:
    name = "deploy/docker/nginx.conf"
    path = root / name
    if not path.is_file():
        errors.append(f"{name}: missing")
        return ""
    conf = path.read_text(encoding="utf-8")
    body = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    port = None
    for doc in yaml.safe_load_all((root / "deploy/k8s/base/web-client.yaml").read_text(encoding="utf-8")):
        if doc and doc.get("kind") == "Deployment":
            port = doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    rules = [
        (rf"listen\s+{port};", f"listens on {port}, the pods' containerPort"),
        (r"try_files\s+\$uri\s+\$uri/\s+/index\.html;", "SPA fallback: try_files $uri $uri/ /index.html"),
        (r"~\^/assets/\s+\"public, max-age=31536000, immutable\"", "a year of immutable caching for /assets/"),
        (r"default\s+\"no-cache\"", "no-cache for everything else (index.html)"),
        (r"add_header\s+Cache-Control\s+\$galaxy_cache_control;", "the Cache-Control header applied"),
        (r"location\s+/assets/\s*\{\s*try_files\s+\$uri\s+=404;", "a missing asset is a 404, not the SPA page"),
        (r"gzip\s+on;", "gzip on"),
        (r"gzip_types[^;]*application/javascript", "gzip for JavaScript"),
        (r"pid\s+/tmp/", "pid file under /tmp (read-only root filesystem)"),
        (r"location\s+=\s+/healthz", "the /healthz probe endpoint"),
    ]
    for pattern, what in rules:
        if not re.search(pattern, body):
            errors.append(f"{name}: missing {what}")
    for directive in ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"):
        if not re.search(rf"{directive}\s+/tmp/", body):
            errors.append(f"{name}: {directive} must be under /tmp (read-only root filesystem)")
    return conf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_nginx_live(conf: str, errors: list[str]) -> str:
    """Syntax-check and serve the config with a local nginx, if the machine has one."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not nginx or not conf:
        return "nginx not installed here: syntax and header check skipped (apt-get install nginx-light to run it)"
    if not Path("/etc/nginx/mime.types").is_file():
        return "no /etc/nginx/mime.types here: nginx check skipped"
    with tempfile.TemporaryDirectory(prefix="galaxy-nginx-") as tmp:
        os.chmod(tmp, 0o755)  # a root master runs its workers as nobody: they must read the files
        html = Path(tmp, "html")
        (html / "assets").mkdir(parents=True)
        (html / "index.html").write_text("<!doctype html><title>galaxy</title>\n")
        (html / "assets" / "index-Abc123.js").write_text("console.log('galaxy');\n" * 200)
        port = free_port()
        local = (conf.replace("/tmp/", f"{tmp}/")
                     .replace("/usr/share/nginx/html", str(html))
                     .replace("listen 8080;", f"listen 127.0.0.1:{port};"))
        conf_path = Path(tmp, "nginx.conf")
        conf_path.write_text(local)
        test = subprocess.run([nginx, "-t", "-q", "-c", str(conf_path)], capture_output=True, text=True)
        if test.returncode != 0:
            errors.append(f"nginx.conf: nginx -t failed: {test.stderr.strip()}")
            return "nginx -t failed"
        proc = subprocess.Popen([nginx, "-c", str(conf_path), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    time.sleep(0.1)

            def get(path: str, gzip: bool = False) -> tuple[int, dict[str, str], bytes]:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                                 headers={"Accept-Encoding": "gzip"} if gzip else {})
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:
                        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
                except urllib.error.HTTPError as error:
                    return error.code, {k.lower(): v for k, v in error.headers.items()}, b""

            expectations = [
                ("/", 200, "no-cache", b"galaxy"),
                ("/index.html", 200, "no-cache", b"galaxy"),
                ("/cockpit/some/route", 200, "no-cache", b"galaxy"),
                ("/assets/index-Abc123.js", 200, "public, max-age=31536000, immutable", b"console.log"),
                ("/assets/missing-Zzz.js", 404, None, None),
                ("/healthz", 200, None, b"ok"),
                ("/.env", 404, None, None),
            ]
            for path, status, cache, body in expectations:
                got_status, headers, content = get(path)
                if got_status != status:
                    errors.append(f"nginx.conf: GET {path} gave {got_status}, expected {status}")
                if cache is not None and headers.get("cache-control") != cache:
                    errors.append(f"nginx.conf: GET {path} Cache-Control {headers.get('cache-control')!r}, expected {cache!r}")
                if status == 404 and "immutable" in headers.get("cache-control", ""):
                    errors.append(f"nginx.conf: the 404 for {path} is marked immutable")
                if body is not None and body not in content:
                    errors.append(f"nginx.conf: GET {path} did not serve the expected file")
            _, headers, _ = get("/assets/index-Abc123.js", gzip=True)
            if headers.get("content-encoding") != "gzip":
                errors.append("nginx.conf: JavaScript is not served gzip-compressed")
        finally:
            proc.terminate()
            try:
                _, log = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, log = proc.communicate()
        if any(line.startswith("nginx.conf: GET") for line in errors):
            errors.append("nginx error log:\n" + log.strip()[-2000:])
    return f"nginx -t passed and a local nginx served the SPA with the expected headers ({nginx})"


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    errors: list[str] = []
    check_services(root, errors)
    check_web(root, errors)
    conf = check_nginx_static(root, errors)
    note = check_nginx_live(conf, errors) if not errors else "nginx live check not run (static errors first)"
    for line in errors:
        print(line)
    if errors:
        print(f"Dockerfile rules: {len(errors)} broken")
        return 1
    print("Dockerfile rules hold: multi-stage, pinned bases, numeric non-root USER matching the pods, "
          "cargo-chef --locked build with every binary, nginx:alpine runtime with our nginx.conf, dockerignores")
    print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
