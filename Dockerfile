# stagegate, the GitHub App, in a container.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t stagegate .
#   docker run -p 8080:8080 -v stagegate-data:/data --stop-timeout 60 \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     -e STAGEGATE_APP_ID=123 -e STAGEGATE_WEBHOOK_SECRET=... \
#     -e STAGEGATE_PRIVATE_KEY="$(cat key.pem)" stagegate
#
# Every action runs in a bubblewrap sandbox, which needs user namespaces:
# Docker's default seccomp and AppArmor profiles forbid them, hence the
# --security-opt flags (or a seccomp profile allowing clone and unshare of
# namespaces). Without them serve refuses to start and says so; only
# STAGEGATE_SANDBOX=off, knowingly, runs builds unsandboxed.
#
# fly.toml deploys this image on Fly.io; the tests in deploy/ check the two
# agree, and build the binary as below.

# modernc.org/sqlite is pure Go: the binary is static, built without cgo or a
# C toolchain. The go.mod/go.sum layer caches the module download until they
# change.

# build compiles stagegate.
FROM golang:1.26-trixie AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/stagegate ./cmd/stagegate \
 && /out/stagegate version

# Run: Debian slim, not Alpine or distroless. Pipelines' build commands run in
# this container with /bin/sh and the source is fetched with git, so the image
# needs a shell and git; and the tools builds download (Node, JDKs, most
# release binaries) are linked against glibc, which Alpine's musl does not
# run. To give pipelines more tools, build FROM this image and apt-get them.
# tini reaps the processes that builds leave behind, which stagegate kills
# but cannot wait for when the container runtime makes it PID 1.
FROM debian:trixie-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bubblewrap ca-certificates git tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 stagegate \
 && useradd --uid 10001 --gid stagegate --create-home --home-dir /home/stagegate --shell /bin/sh stagegate \
 && install -d -o stagegate -g stagegate -m 0750 /data

COPY --from=build /out/stagegate /usr/local/bin/stagegate
COPY LICENSE /usr/share/doc/stagegate/LICENSE

# The database and the data dir live on the volume at /data, as in fly.toml.
# Secrets (STAGEGATE_APP_ID, STAGEGATE_PRIVATE_KEY, STAGEGATE_WEBHOOK_SECRET)
# are given at run time, never baked in.
ENV STAGEGATE_ADDR=:8080 \
    STAGEGATE_DATABASE=sqlite:///data/stagegate.db \
    STAGEGATE_DATA_DIR=/data/work \
    STAGEGATE_LOG_LEVEL=info \
    HOME=/home/stagegate
VOLUME /data
EXPOSE 8080

# The stagegate user, by number so that Kubernetes' runAsNonRoot can check it.
# Fly.io mounts its volume owned by the image's user.
USER 10001:10001
WORKDIR /home/stagegate

# On SIGTERM running pipelines get STAGEGATE_SHUTDOWN_GRACE (30s) to finish,
# then up to 15s more: stop the container with a timeout above 45s
# (docker run --stop-timeout 60, compose stop_grace_period: 60s); Docker's
# default of 10s cuts them short. No HEALTHCHECK: orchestrators probe
# GET /healthz and GET /readyz on port 8080 themselves.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "/usr/local/bin/stagegate"]
CMD ["serve"]
