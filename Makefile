# mclip: multilingual CLIP inside Weaviate, in Go.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO        ?= go
ROOT      := $(CURDIR)
BIN       := $(ROOT)/bin

# ONNX Runtime comes from the npm package onnxruntime-node (its Linux x64
# build of libonnxruntime.so.1); no Debian package exists.
ORT_VERSION := 1.27.0
ORT_TGZ_SHA256 := c3779c01c59832f8c03e2c392ac3af10bf08579f1822e8b1c63cc451edb302a2
ORT_DIR   := $(ROOT)/third_party/onnxruntime
ORT_LIB   := $(ORT_DIR)/libonnxruntime.so.1

LDFLAGS   := -X github.com/mclip-go/mclip/vectorizer/ortlib.DefaultPath=$(ORT_LIB)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'

.PHONY: build ort test test-unit vet fmt-check clean weaviate run test-integration

## ort: provision libonnxruntime.so.1 into third_party/onnxruntime
ort: $(ORT_LIB)

$(ORT_LIB):
	@mkdir -p $(ORT_DIR)/.dl
	cd $(ORT_DIR)/.dl && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	echo "$(ORT_TGZ_SHA256)  $(ORT_DIR)/.dl/onnxruntime-node-$(ORT_VERSION).tgz" | sha256sum -c --quiet -
	tar -xzf $(ORT_DIR)/.dl/onnxruntime-node-$(ORT_VERSION).tgz -C $(ORT_DIR)/.dl package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mv $(ORT_DIR)/.dl/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $(ORT_LIB)
	rm -rf $(ORT_DIR)/.dl

## build: the mclip CLI at bin/mclip
build: ort
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/mclip ./cmd/mclip

## weaviate: Weaviate with multi2vec-mclip compiled in, at bin/weaviate-mclip
## (a patched copy of the weaviate module under _build/; see cmd/weaviate-mclip)
WEAVIATE_BUILD := _build
weaviate: ort
	$(GO) run ./cmd/weaviate-mclip -root $(ROOT) -out $(WEAVIATE_BUILD)
	$(GO) build -modfile=$(WEAVIATE_BUILD)/go.mod -mod=mod $(GOFLAGS_BUILD) -o $(BIN)/weaviate-mclip github.com/weaviate/weaviate/cmd/weaviate-server

## vet: go vet and gofmt
vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

## test: every test (unit, golden, numeric, integration)
test: ort vet
	$(GO) test -count=1 ./...

clean:
	rm -rf $(BIN) _build
