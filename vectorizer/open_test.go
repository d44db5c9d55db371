package vectorizer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
)

// Open resolves the settings' model directory and loads the towers named;
// a directory that is not usable fails as a *DirError, models that do not
// load as a *LoadError naming the directory.
func TestOpen(t *testing.T) {
	good := tinyModel(t).Root
	broken := tinyModel(t).Root
	require.NoError(t, os.WriteFile(filepath.Join(broken, "vision", "onnx", "vision_model.onnx"), []byte("not onnx"), 0o644))
	tests := []struct {
		name       string
		modelDir   string
		towers     Towers
		wantTowers Towers
		wantErr    any
		wantText   []string
	}{
		{name: "both by default", modelDir: good, wantTowers: BothTowers},
		{name: "text only", modelDir: good, towers: TowerText, wantTowers: TowerText},
		{name: "a broken tower not asked for", modelDir: broken, towers: TowerText, wantTowers: TowerText},
		{name: "incomplete directory", modelDir: t.TempDir(), wantErr: &DirError{},
			wantText: []string{"model directory: ", "text/tokenizer.json", config.EnvModelDir}},
		{name: "broken graph", modelDir: broken, wantErr: &LoadError{},
			wantText: []string{"load models from " + broken + ": ", "vision"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.ModelDir, cfg.Threads = tt.modelDir, 1
			var resolved []string
			v, err := Open(context.Background(), cfg, OpenOptions{Towers: tt.towers, Resolved: func(d modelstore.Dir) { resolved = append(resolved, d.Root) }})
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.IsType(t, tt.wantErr, err)
				for _, s := range tt.wantText {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			defer v.Close()
			assert.Equal(t, tt.wantTowers, v.Towers())
			assert.Equal(t, []string{tt.modelDir}, resolved)
			assert.Equal(t, tt.modelDir, v.Info().ModelDir)
		})
	}
}

func TestResolveDirNeverDownloads(t *testing.T) {
	cfg := config.Default()
	cfg.CacheDir = t.TempDir()
	cfg.HubCache = t.TempDir() // an empty Hugging Face cache
	_, err := ResolveDir(context.Background(), cfg, OpenOptions{})
	var dirErr *DirError
	require.ErrorAs(t, err, &dirErr)
	assert.ErrorIs(t, err, modelstore.ErrIncomplete)
	assert.Contains(t, err.Error(), "mclip models pull")
}

// MCLIP_MODEL decides which models load: a tag this build cannot run fails
// at start, before any file is read, and a directory never serves another
// tag's settings.
func TestOpenByModel(t *testing.T) {
	good := tinyModel(t).Root
	tests := []struct {
		name, model string
		wantErr     []string
	}{
		{"the default tag by name", catalog.Default, nil},
		{"a tag not yet available", catalog.OpenCLIPB16, []string{"model directory: ", catalog.OpenCLIPB16, "not yet available", "conversion"}},
		{"an unknown tag", "clip-ViT-L-14", []string{config.EnvModel, `unknown model "clip-ViT-L-14"`, catalog.Default}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.ModelDir, cfg.Threads, cfg.Model = good, 1, tt.model
			v, err := Open(context.Background(), cfg, OpenOptions{Towers: TowerText})
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			defer v.Close()
			assert.Equal(t, catalog.Default, v.Info().Model)
			assert.Equal(t, modelstore.TextRepo, v.Info().Text.Repo)
		})
	}
}

func TestTowersModel(t *testing.T) {
	tests := []struct {
		name      string
		cfgModel  string
		dirModel  string
		wantTag   string
		wantError string
	}{
		{"both default", "", "", catalog.Default, ""},
		{"default by name and empty", catalog.Default, "", catalog.Default, ""},
		{"settings name a tag the build cannot run", catalog.OpenCLIPB16, "", "", "not yet available"},
		{"directory of a tag the build cannot run", "", catalog.OpenCLIPB16, "", "model directory /m: model " + catalog.OpenCLIPB16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Model = tt.cfgModel
			m, err := towersModel(cfg, modelstore.Dir{Root: "/m", Model: tt.dirModel})
			if tt.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantTag, m.Tag)
		})
	}
}
