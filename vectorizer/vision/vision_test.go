package vision

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelgen/reference"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// tinyModel is a random-weight vision tower for the tests.
func tinyModel(t *testing.T) modelstore.Dir { return modeltest.Tiny(t, 1, modelgen.TowerVision) }

func load(t *testing.T, opts Options) *Encoder {
	t.Helper()
	if opts.Variant == "" {
		opts.Variant = modelstore.VariantFP32
	}
	e, err := Load(tinyModel(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// testImages are decoder goldens in every format, odd sizes included.
var testImages = []string{
	"jpeg_420.jpg", "jpeg_cmyk.jpg", "png_rgba8.png", "png_1x4000.png", "gif_transparent.gif",
	"webp_lossy_alpha.webp", "bmp_p8.bmp", "tiff_rgb_lzw.tif", "png_32x32_upscale.png", "png_50x3.png",
}

func readImages(t *testing.T) [][]byte {
	t.Helper()
	out := make([][]byte, len(testImages))
	for i, f := range testImages {
		b, err := os.ReadFile(filepath.Join("..", "imagedecode", "testdata", "images", f))
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// TestEncodeMatchesReference compares the vectors with modelgen's plain-Go
// forward pass over the same preprocessed pixels.
func TestEncodeMatchesReference(t *testing.T) {
	e := load(t, Options{BatchSize: 4})
	ref, err := reference.LoadVision(tinyModel(t).Root)
	require.NoError(t, err)
	images := readImages(t)
	vecs, errs := e.Encode(context.Background(), images)
	per := e.Preprocessor().TensorLen()
	for i, img := range images {
		require.NoError(t, errs[i], testImages[i])
		px := make([]float32, per)
		require.NoError(t, e.Preprocess(img, px))
		want, err := ref.Embed(px, 1)
		require.NoError(t, err)
		require.Len(t, vecs[i], e.Dimensions())
		assert.Less(t, maxAbsDiff(vecs[i], want[0]), 1e-4, testImages[i])
	}
	assert.Greater(t, maxAbsDiff(vecs[0], vecs[1]), 1e-3, "different images give different vectors")
}

func TestEncodeIsBatchInvariantAndOrdered(t *testing.T) {
	images := readImages(t)
	one, errs := load(t, Options{BatchSize: 1, Workers: 1}).Encode(context.Background(), images)
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, opts := range []Options{{BatchSize: 3}, {BatchSize: 32, Workers: 7}} {
		got, errs := load(t, opts).Encode(context.Background(), images)
		for i := range images {
			require.NoError(t, errs[i])
			assert.Less(t, maxAbsDiff(one[i], got[i]), 1e-5, "image %d with %+v", i, opts)
		}
	}
}

func TestEncodePerItemErrors(t *testing.T) {
	e := load(t, Options{BatchSize: 2, Decode: imagedecode.Options{MaxPixels: 1_000_000}})
	images := readImages(t)
	good := images[0]
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"good", good, nil},
		{"empty", nil, imagedecode.ErrEmpty},
		{"not an image", []byte("hello, world"), imagedecode.ErrUnsupported},
		{"truncated", good[:len(good)/2], imagedecode.ErrTruncated},
		{"good again", images[2], nil},
		{"over pixel budget", pngHeader(5000, 5000), imagedecode.ErrTooLarge},
		{"1x4000", images[3], nil},
	}
	inputs := make([][]byte, len(tests))
	for i, tt := range tests {
		inputs[i] = tt.input
	}
	vecs, errs := e.Encode(context.Background(), inputs)
	single, serrs := e.Encode(context.Background(), [][]byte{good})
	require.NoError(t, serrs[0])
	for i, tt := range tests {
		if tt.want == nil {
			require.NoError(t, errs[i], tt.name)
			assert.Len(t, vecs[i], e.Dimensions(), tt.name)
			continue
		}
		assert.ErrorIs(t, errs[i], tt.want, tt.name)
		assert.Nil(t, vecs[i], tt.name)
	}
	assert.Less(t, maxAbsDiff(vecs[0], single[0]), 1e-5, "a failing neighbour changes nothing")
}

// pngHeader is a PNG signature and IHDR declaring w x h, nothing more.
func pngHeader(w, h uint32) []byte {
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 2, 0, 0, 0)
	b := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestEncodeConcurrent(t *testing.T) {
	e := load(t, Options{BatchSize: 3})
	images := readImages(t)
	want, _ := e.Encode(context.Background(), images)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, errs := e.Encode(context.Background(), images)
			for i := range images {
				assert.NoError(t, errs[i])
				assert.Less(t, maxAbsDiff(want[i], got[i]), 1e-5)
			}
		}()
	}
	wg.Wait()
}

func TestEncodeCancelled(t *testing.T) {
	e := load(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vecs, errs := e.Encode(ctx, readImages(t)[:2])
	for i := range errs {
		assert.ErrorIs(t, errs[i], context.Canceled)
		assert.Nil(t, vecs[i])
	}
}

func TestEncodePixelsChecksLength(t *testing.T) {
	e := load(t, Options{})
	_, err := e.EncodePixels(make([]float32, 10), 1)
	assert.ErrorContains(t, err, "10 pixel values for a batch of 1")
	_, err = e.EncodePixels(nil, 0)
	assert.Error(t, err)
}

func TestLoadRefusesBrokenModels(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(d modelstore.Dir) error
		want  string
	}{
		{"no preprocessor config", func(d modelstore.Dir) error {
			return os.Remove(d.Vision(modelstore.PreprocessorConfig))
		}, "preprocessor config"},
		{"unsupported resample", func(d modelstore.Dir) error {
			return os.WriteFile(d.Vision(modelstore.PreprocessorConfig), []byte(`{"resample": 2, "size": 224, "crop_size": 224}`), 0o644)
		}, "resample 2"},
		{"bad projection_dim", func(d modelstore.Dir) error {
			return os.WriteFile(d.Vision(modelstore.VisionConfigJSON), []byte(`{"projection_dim": -1}`), 0o644)
		}, "projection_dim"},
		{"no graph", func(d modelstore.Dir) error {
			return os.Remove(d.Vision(modelstore.VisionONNXFP32))
		}, "no vision graph"},
		{"graph of the wrong contract", func(d modelstore.Dir) error {
			return os.WriteFile(d.Vision(modelstore.VisionONNXFP32), textGraph(t), 0o644)
		}, "does not fit the model contract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := modelstore.Dir{Root: t.TempDir()}
			require.NoError(t, os.CopyFS(d.Root, os.DirFS(tinyModel(t).Root)))
			require.NoError(t, tt.spoil(d))
			_, err := Load(d, Options{Variant: modelstore.VariantFP32})
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// textGraph is the tiny text tower's graph, a valid ONNX file with other
// inputs and outputs.
func textGraph(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 2, Towers: modelgen.TowerText}))
	b, err := os.ReadFile(modelstore.Dir{Root: dir}.Text(modelstore.TextONNXFP32))
	require.NoError(t, err)
	return b
}

// TestLoadPreprocessing checks that Load runs the preprocessor config as
// the kind asked for, takes open_clip's settings without one, and refuses a
// crop that is not the tower's input size.
func TestLoadPreprocessing(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		spoil  bool
		want   clipprep.Kind
		errMsg string
	}{
		{name: "default", want: clipprep.KindCLIPPillow},
		{name: "fast", opts: Options{Preprocessing: clipprep.KindCLIPFast, InputSize: 224}, want: clipprep.KindCLIPFast},
		{name: "open_clip without a preprocessor config", opts: Options{Preprocessing: clipprep.KindOpenCLIP, InputSize: 224}, spoil: true, want: clipprep.KindOpenCLIP},
		{name: "crop is not the input size", opts: Options{Preprocessing: clipprep.KindCLIPFast, InputSize: 384}, errMsg: "but the vision tower takes 384x384"},
		{name: "unknown kind", opts: Options{Preprocessing: "squash"}, errMsg: `preprocessing "squash"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := modelstore.Dir{Root: t.TempDir()}
			require.NoError(t, os.CopyFS(d.Root, os.DirFS(tinyModel(t).Root)))
			if tt.spoil {
				require.NoError(t, os.Remove(d.Vision(modelstore.PreprocessorConfig)))
			}
			tt.opts.Variant = modelstore.VariantFP32
			e, err := Load(d, tt.opts)
			if tt.errMsg != "" {
				require.ErrorContains(t, err, tt.errMsg)
				return
			}
			require.NoError(t, err)
			defer e.Close()
			assert.Equal(t, tt.want, e.Preprocessor().Kind)
		})
	}
}
