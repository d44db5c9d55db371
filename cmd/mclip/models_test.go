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
	hub := hubtest.New(modelsRepos())
	t.Cleanup(hub.Close)
	return hub
}

// modelsRepos is the fp32 files of both repositories, small.
func modelsRepos() map[string]map[string][]byte {
	files := func(names ...string) map[string][]byte {
		m := map[string][]byte{}
		for i, n := range names {
			m[n] = bytes.Repeat([]byte{byte('a' + i)}, 100+i)
		}
		return m
	}
	text := append(append([]string{}, modelstore.TextRequired...), modelstore.TextONNXFP32)
	vision := append(append([]string{}, modelstore.VisionRequired...), modelstore.VisionONNXFP32)
	return map[string]map[string][]byte{modelstore.TextRepo: files(text...), modelstore.VisionRepo: files(vision...)}
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
	for _, k := range []string{"MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HOME"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HUB_CACHE", t.TempDir()) // empty
	t.Setenv("MCLIP_CACHE_DIR", cache)
	t.Setenv("HF_ENDPOINT", hub.URL)
	want := filepath.Join(cache, "models", "main")

	out, errOut, code := runCLI(t, "models", "path")
	require.Equal(t, 0, code)
	assert.Equal(t, want+"\n", out)
	assert.Contains(t, errOut, modelstore.TextRepo+"@main: 8 files missing: `mclip models pull` downloads them")

	out, errOut, code = runCLI(t, "models", "verify", "--variant", "fp32")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "missing")
	assert.Contains(t, errOut, "mclip models pull --variant fp32")

	out, errOut, code = runCLI(t, "models", "pull", "--variant", "fp32")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, want+"\n", out)
	assert.Contains(t, errOut, "11 files downloaded")
	assert.Contains(t, errOut, "downloading text/onnx/model.onnx")
	assert.Empty(t, modelstore.Dir{Root: want}.Missing(modelstore.VariantFP32))

	_, errOut, code = runCLI(t, "models", "path")
	require.Equal(t, 0, code)
	assert.Contains(t, errOut, modelstore.VisionRepo+"@main: 3 files downloaded from "+hub.URL)

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

func TestModelsFromHFCache(t *testing.T) {
	hub := modelsHub(t)
	for _, k := range []string{"MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_ENDPOINT", hub.URL)
	for _, tc := range []struct {
		name, offline string
		viaHome       bool // HF_HOME set, the cache in its hub/
		pulled        string
	}{
		{name: "HF_HUB_CACHE, online", pulled: "0 files downloaded, 11 taken from the Hugging Face cache "},
		{name: "HF_HOME, offline", offline: "1", viaHome: true, pulled: "offline: 11 files taken from the Hugging Face cache "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hf := t.TempDir()
			t.Setenv("HF_HUB_CACHE", hf)
			t.Setenv("HF_HOME", "")
			if tc.viaHome {
				t.Setenv("HF_HUB_CACHE", "")
				t.Setenv("HF_HOME", hf)
				hf = filepath.Join(hf, "hub")
			}
			for repo, files := range modelsRepos() {
				_, err := hubtest.WriteHFCache(hf, repo, hub.Commit(repo), "main", files)
				require.NoError(t, err)
			}
			t.Setenv("HF_HUB_OFFLINE", tc.offline)
			t.Setenv("MCLIP_CACHE_DIR", t.TempDir())

			_, errOut, code := runCLI(t, "models", "path")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, errOut, modelstore.TextRepo+"@main: 8 files missing, in the Hugging Face cache "+hf)

			out, errOut, code := runCLI(t, "models", "pull")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, errOut, tc.pulled+hf)
			assert.Empty(t, modelstore.Dir{Root: strings.TrimSpace(out)}.Missing(modelstore.VariantFP32))

			_, errOut, code = runCLI(t, "models", "path")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, errOut, modelstore.TextRepo+"@main: 8 files taken from the Hugging Face cache "+hf+" (hard link)")
			assert.Contains(t, errOut, modelstore.VisionRepo+"@main: 3 files taken from the Hugging Face cache "+hf+" (hard link)")
		})
	}
	for _, r := range hub.Requests() {
		assert.NotEqual(t, "cdn", r.Server, "nothing downloaded")
		assert.NotEqual(t, "GET", r.Method, "nothing downloaded")
	}
}
