package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// embedModel is a tiny generated model for one test.
func embedModel(t *testing.T) string { return modeltest.Tiny(t, 11).Root }

func writePNG(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, testimage.GradientPNG(seed, w, h), 0o644))
}

func TestEmbed(t *testing.T) {
	model := embedModel(t)
	dir := t.TempDir()
	dog, cat := filepath.Join(dir, "dog.png"), filepath.Join(dir, "cat.png")
	writePNG(t, dog, 80, 60, 10)
	writePNG(t, cat, 50, 90, 200)
	textsFile := filepath.Join(dir, "texts.txt")
	require.NoError(t, os.WriteFile(textsFile, []byte("Una playa con palmeras.\r\nСобака на снегу\n"), 0o644))
	textsJSON := filepath.Join(dir, "texts.json")
	require.NoError(t, os.WriteFile(textsJSON, []byte(`["雪の中の犬", ""]`), 0o644))

	out, stderr, code := runCLI(t, "embed", "--model-dir", model, "--text", "A dog in the snow", "--text", "Eine Katze",
		"--texts-file", textsFile, "--texts-json", textsJSON, dog, cat)
	require.Equal(t, 0, code, stderr)
	var got embedOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	wantTexts := []string{"A dog in the snow", "Eine Katze", "Una playa con palmeras.", "Собака на снегу", "雪の中の犬", ""}
	require.Len(t, got.Texts, len(wantTexts))
	for i, w := range wantTexts {
		assert.Equal(t, w, got.Texts[i].Text)
		assert.Len(t, got.Texts[i].Vector, 512)
		assert.Empty(t, got.Texts[i].Error)
	}
	require.Len(t, got.Images, 2)
	assert.Equal(t, dog, got.Images[0].Path)
	assert.Len(t, got.Images[1].Vector, 512)

	// the same text alone gives the same vector: order is kept
	alone, _, code := runCLI(t, "embed", "--model-dir", model, "--text", "Eine Katze")
	require.Equal(t, 0, code)
	var one embedOutput
	require.NoError(t, json.Unmarshal([]byte(alone), &one))
	assert.InDeltaSlice(t, got.Texts[1].Vector, one.Texts[0].Vector, 1e-5)
}

func TestEmbedFailedItems(t *testing.T) {
	model := embedModel(t)
	dir := t.TempDir()
	good, corrupt := filepath.Join(dir, "good.png"), filepath.Join(dir, "corrupt.jpg")
	writePNG(t, good, 40, 40, 1)
	require.NoError(t, os.WriteFile(corrupt, []byte("\xff\xd8\xff\xe0 this is no jpeg"), 0o644))
	out, _, code := runCLI(t, "embed", "--model-dir", model, "--text", "ok", good, corrupt, filepath.Join(dir, "absent.png"))
	assert.Equal(t, 1, code)
	var got embedOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Len(t, got.Texts[0].Vector, 512)
	assert.Len(t, got.Images[0].Vector, 512)
	assert.Nil(t, got.Images[1].Vector)
	assert.NotEmpty(t, got.Images[1].Error)
	assert.Contains(t, got.Images[2].Error, "absent.png")
}

func TestEmbedTable(t *testing.T) {
	out, stderr, code := runCLI(t, "embed", "--model-dir", embedModel(t), "--format", "table", "--text", "Eine Katze")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "KIND")
	assert.Contains(t, out, "Eine Katze")
	assert.Contains(t, out, "(512 dims)")
}

func TestSimilarity(t *testing.T) {
	model := embedModel(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writePNG(t, a, 64, 64, 30)
	writePNG(t, b, 64, 64, 220)
	out, stderr, code := runCLI(t, "similarity", "--model-dir", model, "--format", "json", "--text", "A dog in the snow", "--text", "Eine Katze", a, b)
	require.Equal(t, 0, code, stderr)
	var got similarityOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Cosine, 2)
	for i, row := range got.Cosine {
		require.Len(t, row, 2)
		best := 0
		if *row[1] > *row[0] {
			best = 1
		}
		assert.Equal(t, best, got.Best[i])
		for _, c := range row {
			assert.True(t, *c >= -1 && *c <= 1)
		}
	}

	table, _, code := runCLI(t, "similarity", "--model-dir", model, "--text", "A dog in the snow", a, b)
	require.Equal(t, 0, code)
	assert.Contains(t, table, "a.png")
	assert.Contains(t, table, "BEST")
}

func TestTokenizeCommand(t *testing.T) {
	out, stderr, code := runCLI(t, "tokenize", "--model-dir", embedModel(t), "--text", "  Eine Katze ", "--text", strings.Repeat("palabra ", 300), "--text", "")
	require.Equal(t, 0, code, stderr)
	var got struct {
		Texts []tokenizeResult `json:"texts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Texts, 3)
	assert.Equal(t, "  Eine Katze ", got.Texts[0].Text)
	assert.Equal(t, int64(101), got.Texts[0].InputIDs[0])
	assert.Len(t, got.Texts[1].InputIDs, 128)
	assert.Len(t, got.Texts[1].AttentionMask, 128)
	assert.Equal(t, []int64{101, 102}, got.Texts[2].InputIDs)
}

func TestEmbedUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing to encode", []string{"embed", "--model-dir", "x"}, 2, "nothing to encode"},
		{"bad format", []string{"embed", "--format", "xml", "--text", "a"}, 2, "--format"},
		{"bad texts json", []string{"embed", "--texts-json", "/nonexistent.json"}, 2, "--texts-json"},
		{"incomplete model dir", []string{"embed", "--model-dir", "/nonexistent-model-dir", "--text", "a"}, 1, "/nonexistent-model-dir"},
		{"similarity without images", []string{"similarity", "--text", "a"}, 2, "image"},
		{"tokenize positional", []string{"tokenize", "oops"}, 2, "positional"},
		{"unknown command", []string{"embedd"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// TestEmbedLoadsOnlyTheTowerItUses runs embed against model directories
// where one tower's graph is garbage: texts alone must never open the image
// tower's graph, nor images alone the text tower's.
func TestEmbedLoadsOnlyTheTowerItUses(t *testing.T) {
	broken := func(graph string) string {
		dir := modeltest.Tiny(t, 11).Root
		require.NoError(t, os.WriteFile(filepath.Join(dir, graph), []byte("not an onnx graph"), 0o644))
		return dir
	}
	noVision := broken("vision/onnx/vision_model.onnx")
	noText := broken("text/onnx/model.onnx")
	img := filepath.Join(t.TempDir(), "a.png")
	writePNG(t, img, 40, 30, 7)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantTexts  int
		wantImages int
	}{
		{"texts, broken vision graph", []string{"--model-dir", noVision, "--text", "ein Hund"}, 0, 1, 0},
		{"images, broken text graph", []string{"--model-dir", noText, img}, 0, 0, 1},
		{"texts, broken text graph", []string{"--model-dir", noText, "--text", "ein Hund"}, 1, 0, 0},
		{"images, broken vision graph", []string{"--model-dir", noVision, img}, 1, 0, 0},
		{"both, broken vision graph", []string{"--model-dir", noVision, "--text", "ein Hund", img}, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, append([]string{"embed"}, tt.args...)...)
			require.Equal(t, tt.wantCode, code, stderr)
			if tt.wantCode != 0 {
				return
			}
			var got embedOutput
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			require.Len(t, got.Texts, tt.wantTexts)
			require.Len(t, got.Images, tt.wantImages)
			for _, r := range got.Texts {
				assert.Len(t, r.Vector, 512)
			}
			for _, r := range got.Images {
				assert.Len(t, r.Vector, 512)
			}
		})
	}
}
