package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

func modelsHub(t *testing.T) *hubtest.Hub {
	t.Helper()
	files := func(names ...string) map[string][]byte {
		m := map[string][]byte{}
		for i, n := range names {
			m[n] = bytes.Repeat([]byte{byte('a' + i)}, 100+i)
		}
		return m
	}
	text := append(append([]string{}, modelstore.TextRequired...), modelstore.TextONNXFP32)
	vision := append(append([]string{}, modelstore.VisionRequired...), modelstore.VisionONNXFP32)
	hub := hubtest.New(map[string]map[string][]byte{modelstore.TextRepo: files(text...), modelstore.VisionRepo: files(vision...)})
	t.Cleanup(hub.Close)
	return hub
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestModelsCommands(t *testing.T) {
	hub := modelsHub(t)
	cache := t.TempDir()
	for _, k := range []string{"MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("MCLIP_CACHE_DIR", cache)
	t.Setenv("HF_ENDPOINT", hub.URL)
	want := filepath.Join(cache, "models", "main")

	out, _, code := runCLI(t, "models", "path")
	require.Equal(t, 0, code)
	assert.Equal(t, want+"\n", out)

	out, errOut, code := runCLI(t, "models", "verify", "--variant", "fp32")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "missing")
	assert.Contains(t, errOut, "mclip models pull --variant fp32")

	out, errOut, code = runCLI(t, "models", "pull", "--variant", "fp32")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, want+"\n", out)
	assert.Contains(t, errOut, "11 files downloaded")
	assert.Contains(t, errOut, "downloading text/onnx/model.onnx")
	assert.Empty(t, modelstore.Dir{Root: want}.Missing(modelstore.VariantFP32))

	out, errOut, code = runCLI(t, "models", "verify")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 11, strings.Count(out, "ok "))

	out, _, code = runCLI(t, "models", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "text/onnx/model.onnx")
	assert.NotContains(t, out, "missing")

	t.Setenv("HF_HUB_OFFLINE", "1")
	_, errOut, code = runCLI(t, "models", "pull", "--variant", "fp16")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "vision/onnx/vision_model_fp16.onnx")
	assert.Contains(t, errOut, "HF_HUB_OFFLINE")

	_, errOut, code = runCLI(t, "models", "pull", "--variant", "bf16")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bf16")

	// A local MODEL_DIR is used as is.
	t.Setenv("MCLIP_MODEL_DIR", want)
	out, _, code = runCLI(t, "models", "path")
	require.Equal(t, 0, code)
	assert.Equal(t, want+"\n", out)
	_, errOut, code = runCLI(t, "models", "pull")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "nothing to pull")
}

func TestModelsPullTokenNotPrinted(t *testing.T) {
	const token = "hf_CliSecretToken"
	hub := modelsHub(t)
	hub.Gate(modelstore.TextRepo, "hf_the_right_one")
	t.Setenv("MCLIP_MODEL_DIR", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_TOKEN", token)
	out, errOut, code := runCLI(t, "models", "pull", "--cache-dir", t.TempDir(), "--endpoint", hub.URL)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "GatedRepo")
	assert.Contains(t, errOut, "HF_TOKEN")
	assert.NotContains(t, out+errOut, token)
}
