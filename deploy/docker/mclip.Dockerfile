# The mclip inference container: `mclip serve` on 0.0.0.0:8080, a drop-in for
# Weaviate's multi2vec-clip inference image (CLIP_INFERENCE_API).
# Build from the repository root: `make images`, or
#   docker build -f deploy/docker/mclip.Dockerfile -t mclip .
# after `make ort-tgz` (the ONNX Runtime npm tarball, checked by sha256 here).
# Build args: MODEL_DIR=path/in/the/context bakes a model directory in.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# The cgo libraries: every package setup/debian-packages checks with pc:.
COPY setup/debian-packages /tmp/debian-packages
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends gcc libc6-dev pkg-config \
      $(awk '!/^#/ && / pc:/ {print $1}' /tmp/debian-packages) >/dev/null && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG ORT_VERSION=1.27.0
ARG ORT_TGZ_SHA256=c3779c01c59832f8c03e2c392ac3af10bf08579f1822e8b1c63cc451edb302a2
RUN echo "${ORT_TGZ_SHA256}  third_party/onnxruntime/onnxruntime-node-${ORT_VERSION}.tgz" | sha256sum -c - && \
    plat="$(bash setup/ort-platform)" && \
    tar -xzf third_party/onnxruntime/onnxruntime-node-${ORT_VERSION}.tgz -C /tmp package/bin/napi-v6/linux/$plat/libonnxruntime.so.1 && \
    install -D -m 0644 /tmp/package/bin/napi-v6/linux/$plat/libonnxruntime.so.1 /out/usr/local/lib/libonnxruntime.so.1
# GOPROXY/GOFLAGS come in as build args (offline builds: GOPROXY=off with the
# module cache mounted at /go/pkg/mod).
ARG GOPROXY
ARG GOFLAGS
# What `mclip version` and /meta show (deploy/docker/build passes git's).
ARG VERSION=devel
ARG COMMIT=unknown
RUN go build -trimpath \
      -ldflags "-X github.com/mclip-go/mclip/vectorizer/ortlib.DefaultPath=/usr/local/lib/libonnxruntime.so.1 -X github.com/mclip-go/mclip/version.Version=$VERSION -X github.com/mclip-go/mclip/version.Commit=$COMMIT" \
      -o /out/usr/local/bin/mclip ./cmd/mclip && \
    install -D -m 0755 deploy/docker/entrypoint /out/usr/local/bin/mclip-entrypoint
# What we owe others travels with the binaries: our licence, NOTICE (the C
# libraries, ONNX Runtime, Pillow's resampling) and every Go module's licence.
# The Debian packages bring their own copyright files.
RUN install -D -m 0644 -t /out/usr/local/share/doc/mclip LICENSE NOTICE licenses/go-modules.txt
# The runtime packages: those that ship the shared libraries the binaries link.
RUN mkdir -p /pkgs && \
    for b in /out/usr/local/bin/mclip /out/usr/bin/weaviate; do [ -f "$b" ] && ldd "$b"; done | \
      awk '/=> \//{print $1}' | sort -u | while read -r so; do dpkg -S "*/$so" | cut -d: -f1; done | \
      sort -u > /pkgs/runtime-packages && \
    test -s /pkgs/runtime-packages && cat /pkgs/runtime-packages
# The optional baked-in model directory (an empty directory otherwise).
ARG MODEL_DIR=deploy/docker/no-model
RUN mkdir -p /out/models && cp -a "${MODEL_DIR}/." /out/models/ && rm -f /out/models/.keep

FROM ${BASE_IMAGE}
COPY --from=build /pkgs/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends ca-certificates $(cat /tmp/runtime-packages) >/dev/null && \
    rm /tmp/runtime-packages && \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* && \
    useradd --system --uid 10001 --home-dir /models --shell /usr/sbin/nologin mclip
COPY --from=build /out/usr/local /usr/local
# Every shared library the binaries need is here.
RUN ! ldd /usr/local/bin/mclip | grep "not found"
COPY --from=build --chown=10001:10001 /out/models /models
# MCLIP_MODEL: the model, by the tag of the multi2vec-clip image with the
# same vectors (`mclip models list`); the run's environment overrides it.
ARG MCLIP_MODEL=sentence-transformers-clip-ViT-B-32-multilingual-v1
ENV MCLIP_MODEL=${MCLIP_MODEL} \
    MCLIP_MODEL_DIR=/models \
    MCLIP_ADDR=0.0.0.0:8080 \
    ONNXRUNTIME_LIB=/usr/local/lib/libonnxruntime.so.1
USER 10001:10001
VOLUME ["/models"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=120s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /.well-known/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 20[04] '"]
ENTRYPOINT ["/usr/local/bin/mclip-entrypoint"]
CMD ["mclip", "serve"]
