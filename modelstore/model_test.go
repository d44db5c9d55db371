package modelstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
)

func TestDefaultModelIsTheCatalogs(t *testing.T) {
	def, err := catalog.Lookup("")
	require.NoError(t, err)
	assert.Equal(t, TextRepo, def.Text.Repo)
	assert.Equal(t, VisionRepo, def.Vision.Repo)
	// The default's cache directory and files do not move.
	cache := t.TempDir()
	for _, tag := range []string{"", catalog.Default} {
		s, err := Open(Options{Model: tag, CacheDir: cache, CPU: &CPU{}})
		require.NoError(t, err)
		assert.Equal(t, Dir{Root: filepath.Join(cache, "models", "main")}, s.Dir())
		assert.Equal(t, catalog.Default, s.Model().Tag)
	}
}

func TestManifestForModel(t *testing.T) {
	b32, err := catalog.Lookup(catalog.CLIPB32)
	require.NoError(t, err)
	tests := []struct {
		variant Variant
		want    []string
	}{
		{VariantFP32, []string{"text/tokenizer.json", "text/config.json", "text/onnx/text_model.onnx",
			"vision/config.json", "vision/preprocessor_config.json", "vision/onnx/vision_model.onnx"}},
		{VariantInt8, []string{"text/tokenizer.json", "text/config.json", "text/onnx/text_model_quantized.onnx",
			"vision/config.json", "vision/preprocessor_config.json", "vision/onnx/vision_model_quantized.onnx"}},
		{VariantFP16, []string{"text/tokenizer.json", "text/config.json", "text/onnx/text_model_fp16.onnx",
			"vision/config.json", "vision/preprocessor_config.json", "vision/onnx/vision_model_fp16.onnx"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.variant), func(t *testing.T) {
			m, err := ManifestForModel(b32, tt.variant, CPU{}, Revisions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.Rels())
			for _, f := range m.Files {
				assert.Equal(t, "Xenova/clip-vit-base-patch32", f.Repo, "one repository serves both towers")
			}
		})
	}
	// Every tag's manifest is valid, whether or not this build runs it.
	for _, model := range catalog.All() {
		_, err := ManifestForModel(model, VariantFP32, CPU{}, Revisions{})
		assert.NoError(t, err, model.Tag)
	}
}

func TestCacheSubdirPerModel(t *testing.T) {
	assert.Equal(t, "main", cacheSubdir(catalog.Default, "main"))
	assert.Equal(t, filepath.Join(catalog.CLIPB32, "main"), cacheSubdir(catalog.CLIPB32, "main"))
	assert.NotEqual(t, cacheSubdir(catalog.OpenCLIPB16, "main"), cacheSubdir(catalog.OpenCLIPB32, "main"))
}

func TestOpenRefusesModelsThisBuildCannotRun(t *testing.T) {
	for _, m := range catalog.All() {
		_, err := Open(Options{Model: m.Tag, CacheDir: t.TempDir()})
		if m.Available() {
			assert.NoError(t, err, m.Tag)
			continue
		}
		var ua *catalog.UnavailableError
		require.True(t, errors.As(err, &ua), "%s: %v", m.Tag, err)
		assert.Contains(t, err.Error(), "not yet available")
	}
	_, err := Open(Options{Model: "clip-ViT-L-14", CacheDir: t.TempDir()})
	var ue *catalog.UnknownError
	assert.True(t, errors.As(err, &ue), "%v", err)
}

func TestDirMissingFollowsItsModel(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{"text/tokenizer.json", "text/config.json", "vision/config.json", "vision/preprocessor_config.json", "vision/onnx/vision_model.onnx"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("{}"), 0o644))
	}
	assert.Equal(t, []string{"text/onnx/text_model.onnx"}, Dir{Root: root, Model: catalog.CLIPB32}.Missing(VariantFP32))
	def := Dir{Root: root}.Missing(VariantFP32)
	assert.Contains(t, def, "text/modules.json")
	assert.Contains(t, def, "text/onnx/model.onnx")
	assert.Equal(t, []string{`unknown model "nope": known models are ` + joinTags()}, Dir{Root: root, Model: "nope"}.Missing(VariantFP32))
}

func joinTags() string {
	out := ""
	for i, t := range catalog.Tags() {
		if i > 0 {
			out += ", "
		}
		out += t
	}
	return out
}

// A directory holding the files of a one-repository model's hub
// repository as published (huggingface-cli download REPO) is that model's
// directory; what it lacks is named by its repository path.
func TestSnapshotDir(t *testing.T) {
	b32, err := catalog.Lookup(catalog.CLIPB32)
	require.NoError(t, err)
	root := t.TempDir()
	write := func(rel string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("{}"), 0o644))
	}
	for _, rel := range []string{"config.json", "tokenizer.json", "preprocessor_config.json", "onnx/vision_model.onnx", "README.md"} {
		write(rel)
	}
	d := LocalDir(root, b32)
	assert.True(t, d.Snapshot)
	assert.Equal(t, filepath.Join(root, "config.json"), d.Text("config.json"))
	assert.Equal(t, filepath.Join(root, "onnx", "vision_model.onnx"), d.Vision("onnx/vision_model.onnx"))
	assert.Equal(t, []string{"onnx/text_model.onnx"}, d.Missing(VariantFP32))
	assert.Equal(t, []string{"onnx/text_model_quantized.onnx", "onnx/vision_model_quantized.onnx"}, d.Missing(VariantInt8))
	write("onnx/text_model.onnx")
	assert.Empty(t, d.Missing(VariantFP32))
	g, err := d.TextGraph(VariantFP32)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "onnx", "text_model.onnx"), g)

	// The text/ and vision/ layout wins wherever it is, and a model of two
	// repositories is never read as a snapshot.
	write("text/x")
	assert.False(t, LocalDir(root, b32).Snapshot)
	def, err := catalog.Lookup("")
	require.NoError(t, err)
	assert.False(t, LocalDir(t.TempDir(), def).Snapshot)
	assert.Equal(t, Dir{Root: root}, LocalDir(root, def), "the default model's directory is as before")
}
