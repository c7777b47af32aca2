# syntax=docker/dockerfile:1
#
# Galaxy service image: every deployed Rust binary in one slim, non-root image. Each Kubernetes
# Deployment picks its binary with `command:`; `galaxy-admin` is here for `kubectl exec`.
#
# Build from the repository root (the context must hold the whole workspace):
#   docker build -f deploy/docker/services.Dockerfile -t registry.example.com/galaxy/galaxy-services:0.1.0 .
# deploy/docker/services.Dockerfile.dockerignore is the ignore file for this build (BuildKit reads
# <Dockerfile>.dockerignore beside the Dockerfile in preference to a root .dockerignore).
#
# Stages: chef (toolchain + cargo-chef) -> planner (dependency recipe) -> builder (dependencies cooked
# in their own cached layer, then the workspace) -> runtime (binaries only).

FROM rust:1.95.0-slim-trixie AS chef
WORKDIR /src
RUN cargo install cargo-chef --locked --version 0.1.78

# The recipe changes only when a Cargo.toml or Cargo.lock does, so the cook layer below stays cached
# across source-only changes.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# Only the deployed binaries: the one-process `galaxy` binary (local play) is not built here.
RUN cargo build --release --locked --workspace \
        --bin galaxy-tick-engine --bin galaxy-physics --bin galaxy-players --bin galaxy-galaxy \
        --bin galaxy-api-gateway --bin galaxy-admin-dashboard --bin galaxy-admin \
    && mkdir -p /out \
    && for bin in galaxy-tick-engine galaxy-physics galaxy-players galaxy-galaxy \
                  galaxy-api-gateway galaxy-admin-dashboard galaxy-admin; do \
         install -m 0755 "target/release/${bin}" /out/ || exit 1; \
       done

# checkov:skip=CKV_DOCKER_2: one image runs six different services with different health endpoints; Kubernetes probes each Deployment itself (deploy/k8s), and the slim image holds no HTTP client for a HEALTHCHECK
# Same Debian release as the builder image, so the binaries find the glibc they were linked against.
FROM debian:trixie-slim AS runtime
LABEL org.opencontainers.image.title="galaxy-services" \
      org.opencontainers.image.description="Galaxy game services (tick-engine, physics, players, galaxy, api-gateway, admin-dashboard) and the galaxy-admin CLI" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
RUN groupadd --system --gid 10001 galaxy \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
               --shell /usr/sbin/nologin galaxy
COPY --from=builder /out/ /usr/local/bin/
ENV RUST_LOG=info \
    METRICS_ADDR=0.0.0.0:9090
# 8000 api-gateway, 8001 tick-engine, 8002 physics, 8003 players, 8004 galaxy, 8080 admin-dashboard,
# 9090 metrics/health HTTP of the gRPC services.
EXPOSE 8000 8001 8002 8003 8004 8080 9090
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
# No default service: the Deployment names the binary. Running the image bare prints the CLI help.
CMD ["galaxy-admin", "--help"]
