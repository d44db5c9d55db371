# weaviate-mclip: the Weaviate server with multi2vec-mclip compiled in, a
# drop-in for Weaviate's own image (entrypoint /bin/weaviate with the same
# flags, the same environment variables, ports 8080 and 50051, data in
# /var/lib/weaviate). Build from the repository root: `make images`, or
#   docker build -f deploy/docker/weaviate-mclip.Dockerfile -t weaviate-mclip .
# after `make ort-tgz`. FLAVOR=stock builds unpatched Weaviate of the same
# version instead (the image-test's stand-in for Weaviate's image).
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
ARG GOPROXY
ARG GOFLAGS
# What `mclip version` and /meta show (deploy/docker/build passes git's).
ARG VERSION=devel
ARG COMMIT=unknown
ARG FLAVOR=mclip
RUN LDFLAGS="-X github.com/mclip-go/mclip/vectorizer/ortlib.DefaultPath=/usr/local/lib/libonnxruntime.so.1 -X github.com/mclip-go/mclip/version.Version=$VERSION -X github.com/mclip-go/mclip/version.Commit=$COMMIT" && \
    go run ./cmd/weaviate-mclip -root /src -out _build && \
    if [ "$FLAVOR" = stock ]; then \
      mkdir -p _build/stock && cp go.mod _build/stock/go.mod && \
      cat go.sum _build/go.sum | sort -u > _build/stock/go.sum && \
      go build -modfile=_build/stock/go.mod -mod=mod -trimpath -o /out/usr/bin/weaviate github.com/weaviate/weaviate/cmd/weaviate-server; \
    else \
      go build -modfile=_build/go.mod -mod=mod -trimpath -ldflags "$LDFLAGS" -o /out/usr/bin/weaviate github.com/weaviate/weaviate/cmd/weaviate-server && \
      go build -trimpath -ldflags "$LDFLAGS" -o /out/usr/local/bin/mclip ./cmd/mclip && \
      install -D -m 0755 deploy/docker/entrypoint /out/usr/local/bin/mclip-entrypoint; \
    fi
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

FROM ${BASE_IMAGE}
COPY --from=build /pkgs/runtime-packages /tmp/runtime-packages
# wget is BusyBox's, as in Weaviate's own (Alpine) image, so that the health
# checks written for that image (wget --spider http://localhost:8080/v1/...)
# work unchanged; only the wget applet is linked.
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends ca-certificates busybox $(cat /tmp/runtime-packages) >/dev/null && \
    rm /tmp/runtime-packages && \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* && \
    ln -s /bin/busybox /usr/local/bin/wget && \
    mkdir -p /var/lib/weaviate /models
COPY --from=build /out/ /
# Every shared library the binaries need is here.
RUN ! ldd /usr/bin/weaviate | grep "not found"
# MCLIP_MODEL: the model, by the tag of the multi2vec-clip image with the
# same vectors (`mclip models list`); the run's environment overrides it.
ARG MCLIP_MODEL=sentence-transformers-clip-ViT-B-32-multilingual-v1
ENV MCLIP_MODEL=${MCLIP_MODEL} \
    MCLIP_MODEL_DIR=/models \
    PERSISTENCE_DATA_PATH=/var/lib/weaviate \
    ONNXRUNTIME_LIB=/usr/local/lib/libonnxruntime.so.1
# Weaviate's image runs as root, so existing volumes keep working.
EXPOSE 8080 50051
HEALTHCHECK --interval=5s --timeout=3s --start-period=180s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /v1/.well-known/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/bin/sh", "-c", "if [ -x /usr/local/bin/mclip-entrypoint ]; then exec /usr/local/bin/mclip-entrypoint /bin/weaviate \"$@\"; else exec /bin/weaviate \"$@\"; fi", "weaviate"]
CMD ["--host", "0.0.0.0", "--port", "8080", "--scheme", "http"]
