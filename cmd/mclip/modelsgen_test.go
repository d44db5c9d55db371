package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mclip-go/mclip/modelstore"
)

func TestModelsGen(t *testing.T) {
	out := filepath.Join(t.TempDir(), "models")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		complete bool
	}{
		{"tiny", []string{"models", "gen", "--out", out, "--seed", "4"}, 0, "text/onnx/model.onnx", "", true},
		{"int8", []string{"models", "gen", "--out", out, "--int8", "--fp16", "--towers", "text"}, 0, "text/onnx/model_fp16.onnx", "", false},
		{"missing out", []string{"models", "gen"}, 2, "", "--out is required", false},
		{"bad size", []string{"models", "gen", "--out", out, "--size", "medium"}, 2, "", "unknown model size", false},
		{"bad tower", []string{"models", "gen", "--out", out, "--towers", "audio"}, 2, "", "unknown tower", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), tc.args, &stdout, &stderr)
			assert.Equal(t, tc.code, code, stderr.String())
			assert.Contains(t, stdout.String(), tc.stdout)
			assert.Contains(t, stderr.String(), tc.stderr)
			if tc.complete {
				assert.Empty(t, modelstore.Dir{Root: out}.Missing(modelstore.VariantFP32))
			}
		})
	}
}
