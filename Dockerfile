# The bottle egress sidecar image: `docker build -t bottle-egress .`
# Build stage: the official Swift toolchain on Debian bookworm; installs through scripts/install.sh,
# the same script the network-namespace test installs with. Runtime stage: bookworm-slim with only
# the shared libraries the two executables load, run as a non-root user with no added capabilities.
ARG SWIFT_IMAGE=swift:6.3-bookworm

FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends pkg-config libpcre2-dev libseccomp-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first, so the dependency checkout is cached while sources change.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN scripts/install.sh --configuration release --static-swift-stdlib --strip --prefix /opt/egress

FROM debian:bookworm-slim
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libpcre2-8-0 libseccomp2 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 egress \
    && useradd --system --uid 10001 --gid egress --home-dir /srv/egress --shell /usr/sbin/nologin egress \
    && install -d -o egress -g egress -m 0700 /srv/egress \
    && install -d -m 0755 /etc/egress
COPY --from=build /opt/egress/bin/egress /opt/egress/bin/egress-scanner /usr/local/bin/
# The default policy is the example; mount the planned routes.yaml over it.
COPY --from=build /opt/egress/share/egress/routes.example.yaml /etc/egress/routes.yaml

USER egress:egress
# The CA (ca-cert.pem, ca-key.pem) and the default control socket live here: keep it on a volume.
ENV EGRESS_STATE_DIR=/srv/egress
VOLUME ["/srv/egress"]
WORKDIR /srv/egress
EXPOSE 8080
# `egress health` asks the control listener's /healthz (the same --control / EGRESS_CONTROL and
# token file the sidecar uses); exit 0 only when the sidecar answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["egress", "health"]
ENTRYPOINT ["egress"]
CMD ["run", "--routes", "/etc/egress/routes.yaml", "--listen", "0.0.0.0:8080"]
