package vectorizer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/vectorizer/text"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

func tinyModel(t *testing.T) modelstore.Dir { return modeltest.Tiny(t, 3) }

func load(t *testing.T) *Encoder {
	t.Helper()
	cfg := config.Default()
	cfg.Threads = 1
	v, err := Load(cfg, tinyModel(t))
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return v
}

func TestInfo(t *testing.T) {
	v := load(t)
	info := v.Info()
	assert.Equal(t, 512, info.Dimensions)
	optimized := filepath.Join(info.ModelDir, "optimized")
	assert.Equal(t, "onnx/model.onnx", info.Text.File)
	assert.Equal(t, "onnx/vision_model.onnx", info.Vision.File)
	for _, m := range []modelinfo.Tower{info.Text, info.Vision} {
		assert.Equal(t, "local", m.Revision)
		assert.Equal(t, "fp32", m.Variant)
		assert.Equal(t, optimized, filepath.Dir(m.Optimized), "by default, graphs are optimized once into the model directory")
		assert.Empty(t, m.OptimizedError)
	}
	assert.Equal(t, modelstore.TextRepo, info.Text.Repo)
	assert.Equal(t, modelstore.VisionRepo, info.Vision.Repo)
	assert.Equal(t, 5, info.Text.FusedLayerNorms, "the tiny text tower's 5 layer norms")
	assert.Regexp(t, `^1\.\d+\.\d+`, info.Runtime)
}

func TestOptimizedCacheSetting(t *testing.T) {
	tests := []struct {
		name    string
		setting string
		want    func(root string) string
	}{
		{"default: in the model directory", "", func(root string) string { return filepath.Join(root, "optimized") }},
		{"off", "off", func(string) string { return "" }},
		{"a directory", "/elsewhere", func(string) string { return "/elsewhere" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			cfg := config.Default()
			cfg.OptimizedCacheDir = tt.setting
			assert.Equal(t, tt.want(root), optimizedCacheDir(cfg, modelstore.Dir{Root: root}))
		})
	}
	t.Run("read-only model directory: no cache", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root writes anywhere: make "optimized" a file instead.
			root := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(root, "optimized"), nil, 0o644))
			assert.Equal(t, "", optimizedCacheDir(config.Default(), modelstore.Dir{Root: root}))
			return
		}
		root := t.TempDir()
		require.NoError(t, os.Chmod(root, 0o555))
		t.Cleanup(func() { os.Chmod(root, 0o755) })
		assert.Equal(t, "", optimizedCacheDir(config.Default(), modelstore.Dir{Root: root}))
	})
}

// With the cache off, the graphs load as they are, unfused.
func TestOptimizedCacheOff(t *testing.T) {
	cfg := config.Default()
	cfg.Threads = 1
	cfg.OptimizedCacheDir = "off"
	dir := modeltest.Tiny(t, 1)
	v, err := Load(cfg, dir)
	require.NoError(t, err)
	defer v.Close()
	assert.Empty(t, v.Info().Text.Optimized)
	assert.Equal(t, 0, v.Info().Text.FusedLayerNorms)
	_, err = os.Stat(filepath.Join(dir.Root, "optimized"))
	assert.True(t, os.IsNotExist(err))
}

func TestEncodeTextsAndImages(t *testing.T) {
	v := load(t)
	ctx := context.Background()
	texts, errs := v.EncodeTexts(ctx, []string{"A dog in the snow", "Eine Katze"})
	for i := range texts {
		require.NoError(t, errs[i])
		assert.Len(t, texts[i], 512)
	}
	img1, img2 := testimage.GradientPNG(0, 64, 48), testimage.GradientPNG(90, 300, 200)
	imgs, errs := v.EncodeImages(ctx, [][]byte{img1, []byte("not an image"), img2})
	require.NoError(t, errs[0])
	require.Error(t, errs[1])
	assert.Contains(t, errs[1].Error(), "image 1:")
	var item *itemerror.Error
	require.ErrorAs(t, errs[1], &item, "the index is data, not only text")
	assert.Equal(t, "image", item.Kind)
	assert.Equal(t, 1, item.Index)
	assert.ErrorIs(t, errs[1], imagedecode.ErrUnsupported)
	assert.Equal(t, "image 1: "+item.Err.Error(), errs[1].Error())
	assert.Nil(t, imgs[1])
	require.NoError(t, errs[2])
	assert.Len(t, imgs[0], 512)

	b64, errs := v.EncodeImagesBase64(ctx, []string{
		"!!! not base64",
		base64.StdEncoding.EncodeToString(img2),
		"data:image/png;base64," + base64.StdEncoding.EncodeToString(img1),
	})
	require.Error(t, errs[0])
	assert.Contains(t, errs[0].Error(), "image 0:")
	require.ErrorAs(t, errs[0], &item)
	assert.Equal(t, itemerror.Error{Kind: "image", Index: 0, Err: item.Err}, *item)
	assert.ErrorIs(t, errs[0], imagedecode.ErrBase64)
	require.NoError(t, errs[1])
	require.NoError(t, errs[2])
	for i, pair := range [][2][]float32{{b64[1], imgs[2]}, {b64[2], imgs[0]}} {
		for k := range pair[0] {
			require.InDelta(t, pair[1][k], pair[0][k], 1e-6, "pair %d", i)
		}
	}
}

func TestLoadRefusesMismatchedTowers(t *testing.T) {
	_, err := Load(config.Default(), modelstore.Dir{Root: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "text model")

	bad := config.Default()
	bad.Variant = "bf16"
	_, err = Load(bad, tinyModel(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), config.EnvVariant)
}

func TestImageAndTextVectorsAreFinite(t *testing.T) {
	v := load(t)
	vecs, errs := v.EncodeImages(context.Background(), [][]byte{testimage.GradientPNG(5, 1, 1), testimage.GradientPNG(9, 1, 400)})
	for i, vec := range vecs {
		require.NoError(t, errs[i])
		for _, x := range vec {
			require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0))
		}
	}
}

func TestErrorsTellInputFromInternal(t *testing.T) {
	v := load(t)
	_, errs := v.EncodeImagesBase64(context.Background(), []string{"%%%", base64.StdEncoding.EncodeToString([]byte("GIF89a truncated"))})
	_, textErrs := v.EncodeTexts(context.Background(), []string{strings.Repeat("x", config.DefaultMaxTextBytes+1)})
	for _, err := range append(errs, textErrs...) {
		require.Error(t, err)
		var internal *itemerror.Internal
		assert.False(t, errors.As(err, &internal), "bad input is not internal: %v", err)
	}

	tests := []struct {
		err      error
		internal bool
	}{
		{fmt.Errorf("image 0: %w", imagedecode.ErrCorrupt), false},
		{fmt.Errorf("text 3: %w", text.ErrTooLong), false},
		{fmt.Errorf("text 0: %w", context.Canceled), false},
		{errors.New("run vision_model.onnx: out of memory"), true},
	}
	for _, tt := range tests {
		var internal *itemerror.Internal
		assert.Equal(t, tt.internal, errors.As(classify(tt.err), &internal), "%v", tt.err)
	}
}

// TestLoadTowersOpensOnlyThoseNamed records which tower loaders run, and
// checks that a model directory holding only one tower loads that tower
// alone (the other's files are never opened) and fails for both.
// TestLoadTowersSurvivesAPanickingLoad: the towers load on goroutines of
// their own, where a panic would end the process (Weaviate's); it becomes
// the load's error.
func TestLoadTowersSurvivesAPanickingLoad(t *testing.T) {
	full := tinyModel(t)
	real := loaders
	t.Cleanup(func() { loaders = real })
	loaders = towerLoaders{
		text:   real.text,
		vision: func(modelstore.Dir, vision.Options) (*vision.Encoder, error) { panic("boom") },
	}
	cfg := config.Default()
	cfg.Threads = 1
	v, err := LoadTowers(cfg, full, BothTowers)
	require.ErrorContains(t, err, "load vision tower: internal error: boom")
	assert.Nil(t, v)
}

func TestLoadTowersOpensOnlyThoseNamed(t *testing.T) {
	full := tinyModel(t)
	textOnly := modeltest.Tiny(t, 3, modelgen.TowerText)
	visionOnly := modeltest.Tiny(t, 3, modelgen.TowerVision)
	tests := []struct {
		name       string
		dir        modelstore.Dir
		towers     Towers
		wantOpened []string
		wantErr    string
	}{
		{"text only", full, TowerText, []string{"text"}, ""},
		{"vision only", full, TowerVision, []string{"vision"}, ""},
		{"both", full, BothTowers, []string{"text", "vision"}, ""},
		{"text only, no vision files", textOnly, TowerText, []string{"text"}, ""},
		{"vision only, no text files", visionOnly, TowerVision, []string{"vision"}, ""},
		{"both, no vision files", textOnly, BothTowers, []string{"text", "vision"}, "vision model"},
		{"both, no text files", visionOnly, BothTowers, []string{"text", "vision"}, "text model"},
		{"none", full, 0, nil, "names no tower"},
	}
	real := loaders
	t.Cleanup(func() { loaders = real })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var opened []string
			record := func(name string) {
				mu.Lock()
				defer mu.Unlock()
				opened = append(opened, name)
			}
			loaders = towerLoaders{
				text: func(dir modelstore.Dir, opts text.Options) (*text.Encoder, error) {
					record("text")
					return real.text(dir, opts)
				},
				vision: func(dir modelstore.Dir, opts vision.Options) (*vision.Encoder, error) {
					record("vision")
					return real.vision(dir, opts)
				},
			}
			cfg := config.Default()
			cfg.Threads = 1
			v, err := LoadTowers(cfg, tt.dir, tt.towers)
			assert.ElementsMatch(t, tt.wantOpened, opened)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			defer v.Close()
			assert.Equal(t, tt.towers, v.Towers())
			assert.Equal(t, 512, v.Info().Dimensions)
			tv, terrs := v.EncodeTexts(context.Background(), []string{"ein Hund"})
			iv, ierrs := v.EncodeImages(context.Background(), [][]byte{testimage.GradientPNG(1, 40, 30)})
			for _, c := range []struct {
				tower Towers
				vecs  [][]float32
				errs  []error
			}{{TowerText, tv, terrs}, {TowerVision, iv, ierrs}} {
				if tt.towers&c.tower != 0 {
					assert.NoError(t, c.errs[0], c.tower.String())
					assert.Len(t, c.vecs[0], 512, c.tower.String())
				} else {
					assert.ErrorIs(t, c.errs[0], ErrTowerNotLoaded, c.tower.String())
					assert.Nil(t, c.vecs[0], c.tower.String())
				}
			}
		})
	}
}
