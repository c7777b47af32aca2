# syntax=docker/dockerfile:1
#
# Galaxy web client: the Vite build of web-client/ served by unprivileged nginx on port 8080
# (the Kubernetes Service maps port 80 to it). SPA fallback, long-lived caching for hashed assets,
# no-cache for index.html and gzip are in deploy/docker/nginx.conf.
#
# Build from the repository root:
#   docker build -f deploy/docker/web-client.Dockerfile -t registry.example.com/galaxy/galaxy-web-client:0.1.0 .

FROM node:22.20.0-alpine AS build
WORKDIR /app
# Dependencies first: this layer is reused until package.json or package-lock.json changes.
COPY web-client/package.json web-client/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web-client/ ./
RUN npm run build

FROM nginx:1.28-alpine AS runtime
LABEL org.opencontainers.image.title="galaxy-web-client" \
      org.opencontainers.image.description="Galaxy browser client (Three.js cockpit and HUD) on nginx" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# Our nginx.conf replaces the stock one whole: it listens on 8080, keeps its pid and temp files
# under /tmp (an emptyDir in Kubernetes, since the root filesystem is read-only) and logs to stdio.
RUN rm -f /etc/nginx/conf.d/default.conf
COPY deploy/docker/nginx.conf /etc/nginx/nginx.conf
COPY --from=build /app/dist/ /usr/share/nginx/html/
EXPOSE 8080
# Kubernetes probes /healthz itself; this is for plain `docker run` / compose.
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["/bin/sh", "-c", "wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1"]
# 101 is the image's own `nginx` user; numeric so runAsNonRoot can verify it.
USER 101:101
CMD ["nginx", "-g", "daemon off;"]
