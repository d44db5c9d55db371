package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/version"
)

func TestServeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown flag", []string{"serve", "--nope"}, nil, 2, "flag provided but not defined"},
		{"extra argument", []string{"serve", "x"}, nil, 2, `unexpected arguments ["x"]`},
		{"bad log level", []string{"serve", "--log-level", "loud"}, nil, 2, "--log-level"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, nil, 2, "--log-format"},
		{"bad batch wait", []string{"serve"}, map[string]string{config.EnvBatchWait: "soon"}, 2, config.EnvBatchWait},
		{"negative batch wait", []string{"serve", "--batch-wait", "-1ms"}, nil, 2, "max wait"},
		{"bad variant", []string{"serve", "--variant", "int4"}, nil, 2, "MCLIP_VARIANT"},
		{"help", []string{"serve", "-h"}, nil, 0, "-batch-wait"},
		{"help names the budget", []string{"serve", "-h"}, nil, 0, "-request-memory"},
		{"removed --max-in-flight", []string{"serve", "--max-in-flight", "64"}, nil, 2,
			"removed: vectorize requests beyond the capacity now wait instead of being refused; their memory is bounded by --request-memory"},
		{"removed --max-queued", []string{"serve", "--max-queued=100"}, nil, 2, "removed: queued texts and images are bounded by --request-memory"},
		{"bad request memory", []string{"serve", "--request-memory", "lots"}, nil, 2, "not a non-negative integer"},
		{"zero request memory", []string{"serve", "--request-memory", "0"}, nil, 2, "want a positive byte count"},
		{"bad request memory setting", []string{"serve"}, map[string]string{config.EnvRequestMemory: "0"}, 2, config.EnvRequestMemory + "=0"},
		{"bad queue timeout setting", []string{"serve"}, map[string]string{config.EnvQueueTimeout: "later"}, 2, config.EnvQueueTimeout},
		{"budget below the largest body", []string{"serve", "--request-memory", "64MiB"}, nil, 2,
			"memory budget 67108864 bytes (64.0 MiB): one request of the largest body (67108864 bytes) may need"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tt.code, runMain(context.Background(), tt.args, &stdout, &stderr), stderr.String())
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestServeFailsOnIncompleteModelDir(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--model-dir", t.TempDir()}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "model directory")
	assert.Contains(t, stderr.String(), "text/tokenizer.json")
}

// syncWriter lets the test read the log while the server writes it.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// The command serves tiny generated models end to end and stops on its
// context.
func TestServeTinyModels(t *testing.T) {
	dir := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Out: dir})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	t.Setenv(config.EnvAPIToken, "tok")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncWriter{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"serve", "--addr", addr, "--model-dir", dir, "--log-format", "json", "--request-memory", "2GiB"}, io.Discard, logs)
	}()
	url := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(url + "/.well-known/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusNoContent
	}, 30*time.Second, 20*time.Millisecond, "ready; log:\n%s", logs)

	res, err := http.Get(url + "/meta")
	require.NoError(t, err)
	var meta map[string]map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&meta))
	res.Body.Close()
	assert.Equal(t, "clip", meta["clip_model"]["model_type"])
	assert.NotEmpty(t, meta["text_model"]["model_type"])
	assert.EqualValues(t, 512, meta["mclip"]["dimensions"])
	assert.NotEmpty(t, meta["mclip"]["onnxruntime"])
	assert.Equal(t, version.Get().Version, meta["mclip"]["version"])
	assert.Equal(t, version.Get().Commit, meta["mclip"]["commit"])
	assert.NotContains(t, meta["mclip"], "modelDir", "no file paths in responses")
	assert.Equal(t, "onnx/model.onnx", meta["mclip"]["text"].(map[string]any)["file"])

	req, err := http.NewRequest("POST", url+"/vectorize", strings.NewReader(`{"texts":["hallo wereld","bonjour"]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out struct{ TextVectors [][]float32 }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Len(t, out.TextVectors, 2)
	assert.Len(t, out.TextVectors[0], 512)

	stop()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, want := range []string{`"msg":"models loaded"`, `"msg":"inference API ready"`, `"request_memory":"2.0 GiB"`,
		`"queue_timeout":30000000000`, `"msg":"inference API stopped"`} {
		assert.Contains(t, logs.String(), want)
	}
	assert.NotContains(t, logs.String(), `"tok"`, "the token stays out of the log")
}

// serveMeta runs `mclip serve` with args on a free loopback port until it
// is ready, returns its /meta document, and stops it, checking that it
// exits 0.
func serveMeta(t *testing.T, args ...string) map[string]any {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncWriter{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, append([]string{"serve", "--addr", addr}, args...), io.Discard, logs)
	}()
	url := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(url + "/.well-known/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusNoContent
	}, 60*time.Second, 20*time.Millisecond, "ready; log:\n%s", logs)
	res, err := http.Get(url + "/meta")
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&meta))
	res.Body.Close()
	stop()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	return meta
}
