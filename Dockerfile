# bgpcomm images: bgpcomm-webhook and bgpcomm-speaker (and the bgpcomm CLI) on Debian
# bookworm, running as an unprivileged user.
#
#   docker build -t bgpcomm:0.1.0 .
#   docker build --build-arg BGPCOMM_VERSION=0.1.1 -t bgpcomm:0.1.1 .
#
# The chart runs /usr/local/bin/bgpcomm-webhook and /usr/local/bin/bgpcomm-speaker
# from this one image (values: image.repository, image.tag).
ARG DEBIAN_IMAGE=debian:bookworm-slim

# The runtime: only the shared libraries the binaries link (ldd), CA certificates, the
# unprivileged user and the entrypoint. It is the first stage so that it can be built on
# its own (`--target runtime`): the kind tests (e2e/kind/up.sh) put the binaries of their
# host build of the same sources, on the same Debian, on top of it instead of compiling
# everything again in the build stage below. `docker build .` is what users run.
FROM ${DEBIAN_IMAGE} AS runtime
ARG BGPCOMM_VERSION=0.1.0
LABEL org.opencontainers.image.title="bgpcomm" \
      org.opencontainers.image.description="BGP community aliases for MetalLB-style resources: admission webhook and BGP speaker" \
      org.opencontainers.image.version="${BGPCOMM_VERSION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libssl3 libyaml-cpp0.7 libyaml-0-2 libspdlog1.10 libfmt9 libcpp-httplib0.11 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 zlib1g \
 && rm -rf /var/lib/apt/lists/*
# 65532: the conventional "nonroot" uid/gid; the chart's securityContext uses it too.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bgpcomm-webhook"]

FROM ${DEBIAN_IMAGE} AS build
ARG BUILD_JOBS=2
# The Debian packages of DESIGN.md ("Dependencies") that the daemons and the CLI need.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates cmake make g++ pkg-config \
      libcpp-httplib-dev libssl-dev rapidjson-dev nlohmann-json3-dev \
      libyaml-cpp-dev libyaml-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev libasio-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only the parts' sources (.dockerignore leaves out tests, benchmarks, chart and docs).
COPY . .
RUN rm -rf build-image \
 && cmake -S . -B build-image -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBGPCOMM_TESTS=OFF \
 && cmake --build build-image -j "${BUILD_JOBS}" --target bgpcomm-webhook bgpcomm-speaker bgpcomm \
 && strip --strip-debug build-image/bin/bgpcomm-webhook build-image/bin/bgpcomm-speaker \
      build-image/bin/bgpcomm

FROM runtime
COPY --from=build /src/build-image/bin/bgpcomm-webhook /src/build-image/bin/bgpcomm-speaker \
     /src/build-image/bin/bgpcomm /usr/local/bin/
# `kubectl bgpcomm status`: kubectl finds plugins by name on $PATH (root only to make the
# link; the image runs as the user below).
USER 0
RUN ln -s bgpcomm /usr/local/bin/kubectl-bgpcomm
# As the runtime stage (restated: the final stage is what users run).
USER 65532:65532
