# mclip: multilingual CLIP inside Weaviate, in Go.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO        ?= go
ROOT      := $(CURDIR)
BIN       := $(ROOT)/bin

# ONNX Runtime comes from the npm package onnxruntime-node (its Linux x64 or
# arm64 build of libonnxruntime.so.1, by `uname -m`: setup/ort-platform); no
# Debian package exists.
ORT_VERSION := 1.27.0
ORT_TGZ_SHA256 := c3779c01c59832f8c03e2c392ac3af10bf08579f1822e8b1c63cc451edb302a2
ORT_DIR   := $(ROOT)/third_party/onnxruntime
ORT_LIB   := $(ORT_DIR)/libonnxruntime.so.1

# `mclip version`, `mclip serve`'s /meta and weaviate-mclip's /v1/meta show these.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

LDFLAGS   := -X github.com/mclip-go/mclip/vectorizer/ortlib.DefaultPath=$(ORT_LIB) \
	-X github.com/mclip-go/mclip/version.Version=$(VERSION) \
	-X github.com/mclip-go/mclip/version.Commit=$(COMMIT)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'

.PHONY: setup acceptance build ort ort-tgz images image-test helm test test-unit vet fmt-check c-warnings clean weaviate weaviate-stock run test-integration stress fuzz-short bench bench-setup bench-photos

## setup: check the prerequisites (Go, the packages in setup/debian-packages);
## as root on Debian/Ubuntu install what is missing, otherwise print the
## command that does. Quiet and quick when everything is there.
setup:
	@bash $(ROOT)/setup/check

## ort: provision libonnxruntime.so.1 into third_party/onnxruntime
ort: setup $(ORT_LIB)

$(ORT_LIB): | setup
	@bash $(ROOT)/setup/ort-platform >/dev/null
	@mkdir -p $(ORT_DIR)/.dl
	cd $(ORT_DIR)/.dl && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	echo "$(ORT_TGZ_SHA256)  $(ORT_DIR)/.dl/onnxruntime-node-$(ORT_VERSION).tgz" | sha256sum -c --quiet -
	plat="$$(bash $(ROOT)/setup/ort-platform)" && \
	tar -xzf $(ORT_DIR)/.dl/onnxruntime-node-$(ORT_VERSION).tgz -C $(ORT_DIR)/.dl package/bin/napi-v6/linux/$$plat/libonnxruntime.so.1 && \
	mv $(ORT_DIR)/.dl/package/bin/napi-v6/linux/$$plat/libonnxruntime.so.1 $(ORT_LIB)
	rm -rf $(ORT_DIR)/.dl

## ort-tgz: keep the onnxruntime-node npm tarball in third_party/onnxruntime
## (the images' build context; their Dockerfiles check its sha256 again)
ORT_TGZ := $(ORT_DIR)/onnxruntime-node-$(ORT_VERSION).tgz
ort-tgz: $(ORT_TGZ)

$(ORT_TGZ):
	@mkdir -p $(ORT_DIR)/.tgz
	cd $(ORT_DIR)/.tgz && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	echo "$(ORT_TGZ_SHA256)  $(ORT_DIR)/.tgz/onnxruntime-node-$(ORT_VERSION).tgz" | sha256sum -c --quiet -
	mv $(ORT_DIR)/.tgz/onnxruntime-node-$(ORT_VERSION).tgz $(ORT_TGZ)
	rm -rf $(ORT_DIR)/.tgz

## images: the container images localhost/mclip:dev and
## localhost/weaviate-mclip:dev (podman; see deploy/README.md), with sizes
images: ort-tgz
	deploy/docker/build

## image-test: on this machine (as root: setup/podman installs podman and
## the base images), build the images and the stock-Weaviate stand-in, then
## run both compose quickstarts for real (integration/containers)
image-test: ort ort-tgz
	@if [ "$$(id -u)" = 0 ]; then setup/podman; fi
	deploy/docker/build --stock
	MCLIP_IMAGE_TEST=1 $(GO) test -count=1 -timeout 30m -v ./integration/containers/

## build: the mclip CLI at bin/mclip
build: setup ort
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/mclip ./cmd/mclip

## weaviate: Weaviate with multi2vec-mclip compiled in, at bin/weaviate-mclip
## (a patched copy of the weaviate module under _build/; see cmd/weaviate-mclip)
WEAVIATE_BUILD := _build
weaviate: setup ort
	$(GO) run ./cmd/weaviate-mclip -root $(ROOT) -out $(WEAVIATE_BUILD)
	$(GO) build -modfile=$(WEAVIATE_BUILD)/go.mod -mod=mod $(GOFLAGS_BUILD) -o $(BIN)/weaviate-mclip github.com/weaviate/weaviate/cmd/weaviate-server

## weaviate-stock: unpatched Weaviate (same version) at bin/weaviate-stock,
## for the tests of `mclip serve` as a multi2vec-clip inference container
weaviate-stock: setup
	@mkdir -p $(WEAVIATE_BUILD)/stock
	cp go.mod $(WEAVIATE_BUILD)/stock/go.mod
	cat go.sum $(wildcard $(WEAVIATE_BUILD)/go.sum) $(wildcard $(WEAVIATE_BUILD)/stock/go.sum) | sort -u > $(WEAVIATE_BUILD)/stock/go.sum.new
	mv $(WEAVIATE_BUILD)/stock/go.sum.new $(WEAVIATE_BUILD)/stock/go.sum
	$(GO) build -modfile=$(WEAVIATE_BUILD)/stock/go.mod -mod=mod -trimpath -o $(BIN)/weaviate-stock github.com/weaviate/weaviate/cmd/weaviate-server

## run: build, get the models (`bin/mclip models pull` unless MCLIP_MODEL_DIR
## is set) and start weaviate-mclip on 127.0.0.1:$(RUN_PORT) with data in ./data
## (cluster ports on loopback, the Go profiling server off; docs/ports.md)
RUN_PORT      ?= 8080
RUN_GRPC_PORT ?= 50051
RUN_DATA      ?= $(ROOT)/data
run: setup weaviate build
	@set -e; dir="$${MCLIP_MODEL_DIR:-}"; \
	if [ -z "$$dir" ]; then $(BIN)/mclip models pull; dir="$$($(BIN)/mclip models path)"; fi; \
	mkdir -p $(RUN_DATA); \
	echo "weaviate-mclip: REST and GraphQL on http://127.0.0.1:$(RUN_PORT), gRPC on port $(RUN_GRPC_PORT)"; \
	echo "(Weaviate binds gRPC and the cluster data port, $${CLUSTER_DATA_BIND_PORT:-7947}, on every interface: see docs/ports.md)"; \
	echo "models: $$dir; data: $(RUN_DATA). Try:"; \
	echo "  curl -s localhost:$(RUN_PORT)/v1/meta | grep -o '\"multi2vec-mclip\":{[^}]*}[^}]*}'"; \
	echo "  curl -s localhost:$(RUN_PORT)/v1/schema -H 'Content-Type: application/json' -d '{\"class\":\"Doc\",\"vectorizer\":\"multi2vec-mclip\",\"moduleConfig\":{\"multi2vec-mclip\":{\"textFields\":[\"text\"],\"imageFields\":[\"image\"]}},\"properties\":[{\"name\":\"text\",\"dataType\":[\"text\"]},{\"name\":\"image\",\"dataType\":[\"blob\"]}]}'"; \
	echo "  curl -s localhost:$(RUN_PORT)/v1/objects -H 'Content-Type: application/json' -d '{\"class\":\"Doc\",\"properties\":{\"text\":\"ein Hund spielt im Schnee\"}}'"; \
	echo "  curl -s localhost:$(RUN_PORT)/v1/graphql -H 'Content-Type: application/json' -d '{\"query\":\"{Get{Doc(nearText:{concepts:[\\\"a dog in the snow\\\"]}){text _additional{distance}}}}\"}'"; \
	exec env PERSISTENCE_DATA_PATH=$(RUN_DATA) \
		MCLIP_MODEL_DIR="$$dir" \
		ENABLE_MODULES=multi2vec-mclip \
		DEFAULT_VECTORIZER_MODULE=none \
		AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
		QUERY_DEFAULTS_LIMIT=25 \
		CLUSTER_HOSTNAME=node1 \
		CLUSTER_BIND_ADDR=127.0.0.1 \
		CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
		RAFT_BOOTSTRAP_EXPECT=1 \
		GRPC_PORT=$(RUN_GRPC_PORT) \
		GO_PROFILING_DISABLE=true \
		$(BIN)/weaviate-mclip --host 127.0.0.1 --port $(RUN_PORT) --scheme http

## helm: the helm CLI at bin/helm, built from the Go module proxy in a
## module of its own (tools/helm, which pins its version), for the tests that
## render deploy/helm with Weaviate's chart (integration/containers)
HELM := $(BIN)/helm
helm: $(HELM)

$(HELM): tools/helm/go.mod tools/helm/go.sum
	cd tools/helm && $(GO) build -trimpath -o $(HELM) helm.sh/helm/v3/cmd/helm

## test-integration: the end-to-end tests against bin/weaviate-mclip
test-integration: weaviate weaviate-stock build
	$(GO) test -count=1 -v ./integration/...

## acceptance: Weaviate's own multi2vec-clip acceptance test
## (test/modules/multi2vec-clip of the weaviate module, compiled from a
## temporary copy; its Docker setup replaced by our servers) against stock
## Weaviate + `mclip serve` and weaviate-mclip with
## MCLIP_REPLACE_MULTI2VEC_CLIP=true, on generated models. `make test` runs
## it too (integration/acceptance_test.go).
acceptance: weaviate weaviate-stock build
	$(GO) test -count=1 -v -run '^TestAcceptanceMulti2VecClip$$' ./integration/

## bench: the benchmark suite on full-size generated models (cached in
## .cache/bench-models); writes bench/results. It builds the binaries it
## measures (mclip, weaviate-mclip, weaviate-stock) from this checkout first.
## BENCH_QUICK=1: a smoke run on tiny models, one repetition, results in a
## temporary directory.
bench: ort bench-setup build weaviate weaviate-stock
	bench/photos/build.sh $(ROOT)/.cache/photos
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/mclip-bench ./bench/cmd/mclip-bench
	$(BIN)/mclip-bench -root $(ROOT) $(BENCH_ARGS)

## bench-setup: what the benchmark compares mclip against (Pillow, numpy,
## PyTorch, onnx, OpenBLAS: setup/bench-packages); as root on Debian/Ubuntu
## installs what is missing, otherwise prints the command that does
bench-setup: setup
	@bash $(ROOT)/setup/check $(ROOT)/setup/bench-packages

## bench-photos: only the real-photo and cold-start sections of the suite
## (the corpus of bench/photos/build.sh, from Debian wallpaper packages, into
## .cache/photos; `mclip embed` from bin/mclip); writes bench/results/photos
bench-photos: ort bench-setup build
	bench/photos/build.sh $(ROOT)/.cache/photos
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/mclip-bench ./bench/cmd/mclip-bench
	$(BIN)/mclip-bench -root $(ROOT) -only photos,cold -out $(ROOT)/bench/results/photos $(BENCH_ARGS)

## vet, fmt-check (two names, one check): go vet, and gofmt -l on the
## tracked Go files
vet fmt-check: setup c-warnings
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

## c-warnings: compile each package's .c files as cgo does (cgo's default
## -O2, the package's #cgo CFLAGS with their warnings, its pkg-config
## flags), with -Werror, and -Wmissing-prototypes that cgo's own generated C
## would fail (every function called from Go is declared in the package's
## header, the rest is static). `make vet`, and so `make test`, runs it.
c-warnings: setup
	@set -o pipefail; $(GO) list -f '{{if .CFiles}}{{.Dir}}|{{join .CFiles " "}}|{{join .CgoCFLAGS " "}}|{{join .CgoPkgConfig " "}}{{end}}' ./... | \
	while IFS='|' read -r dir files cflags pkgs; do \
		pc=""; if [ -n "$$pkgs" ]; then pc="$$(pkg-config --cflags $$pkgs)" || exit 1; fi; \
		for f in $$files; do \
			$(CC) -O2 $$cflags $$pc -Werror -Wmissing-prototypes -I"$$dir" -c -o /dev/null "$$dir/$$f" || { echo "c-warnings: $$dir/$$f"; exit 1; }; \
		done; \
	done

## test-unit: the unit tests, every package but integration/: no Weaviate
## build, no container images (about a minute with a warm Go cache)
test-unit: setup ort
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '/integration')

## test: every test (unit, golden, numeric, integration, the client
## examples), and the container images built and run for real (image-test,
## last: it reuses the Go build cache the other builds warmed)
test: setup ort vet weaviate weaviate-stock build helm image-test
	$(GO) test -count=1 ./...

## fuzz-short: each fuzz target for FUZZTIME (the seed corpora run in every
## `go test`; this explores beyond them). Each input that finds new coverage
## is minimized for at most FUZZMINIMIZETIME: at Go's default (60 s) a
## multi-KB image input keeps a worker busy for the whole minute, its
## executions reported only at the end, so the fuzzer shows 0 execs/sec
## and explores nothing new while both workers minimize.
FUZZTIME ?= 10s
FUZZMINIMIZETIME ?= 1s
FUZZ_TARGETS := FuzzDecode:./vectorizer/imagedecode FuzzDecodeBase64:./vectorizer/imagedecode FuzzPNGFastPath:./vectorizer/imagedecode FuzzEncode:./vectorizer/tokenize
fuzz-short: ort
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} ($${t#*:}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $${t#*:}; \
	done

## stress: the long forms of integration/stress (60 s of load at each of
## concurrency 1, 4, 16; the inference API killed under stock Weaviate's
## import; longer cluster and cancellation runs), after fuzz-short; the load
## table goes to integration/stress/LOAD.md, the log to _build/stress.log
stress: weaviate weaviate-stock build fuzz-short
	MCLIP_STRESS=1 MCLIP_LOAD_REPORT=$(ROOT)/integration/stress/LOAD.md \
		$(GO) test -count=1 -timeout 60m -v ./integration/stress/ 2>&1 | grep -v '^        {"' | tee $(ROOT)/_build/stress.log; \
		exit $${PIPESTATUS[0]}

clean:
	rm -rf $(BIN) _build
