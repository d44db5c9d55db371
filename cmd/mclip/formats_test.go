package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// One golden image of each format family the decoder reads beyond the
// original six, and of the layouts that need a codec (JPEG and CCITT in
// TIFF).
var formatImages = []string{
	"pnm_p1.pbm", "pnm_p4.pbm", "pnm_p2_max100.pgm", "pnm_p5_16.pgm", "pnm_p3.ppm", "pnm_p6.ppm",
	"tiff_ycbcr_jpeg.tif", "tiff_rgb_jpeg.tif", "tiff_1bit_group4.tif", "tiff_cmyk_lzw.tif",
	"ico_png.ico", "ico_dib.ico", "cur_dib.cur", "tga_rgb_rle.tga", "tga_p.tga", "pcx_rgb.pcx", "pcx_4planes.pcx",
	"heif_photo.heic", "avif_photo.avif", "avif_irot1_imir0.avif",
}

func TestPreprocessEveryFormat(t *testing.T) {
	model := t.TempDir()
	cfg, err := os.ReadFile("../../vectorizer/clipprep/testdata/preprocessor_config.json")
	require.NoError(t, err)
	dir := modelstore.Dir{Root: model}
	require.NoError(t, os.MkdirAll(filepath.Dir(dir.Vision(modelstore.PreprocessorConfig)), 0o755))
	require.NoError(t, os.WriteFile(dir.Vision(modelstore.PreprocessorConfig), cfg, 0o644))
	t.Setenv("MCLIP_MODEL_DIR", "")
	args := []string{"preprocess", "--model-dir", model, "--out", t.TempDir()}
	for _, f := range formatImages {
		args = append(args, filepath.Join(goldenImages, "images", f))
	}
	out, stderr, code := runCLI(t, args...)
	require.Equal(t, 0, code, stderr)
	var got struct {
		Images []preprocessResult `json:"images"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Len(t, got.Images, len(formatImages))
	for i, f := range formatImages {
		r := got.Images[i]
		require.Empty(t, r.Error, f)
		sha, w, h := goldenCrop(t, f)
		assert.Equal(t, sha, r.CropSHA256, "%s: crop equals the golden (Pillow's, or heif-convert/avifdec's)", f)
		assert.Equal(t, [2]int{w, h}, [2]int{r.Width, r.Height}, f)
	}
}

// TestEmbedEveryFormat embeds each format next to a PNG of the same decoded
// pixels: the vectors must be equal, so every format reaches the model as
// its pixels.
func TestEmbedEveryFormat(t *testing.T) {
	model := embedModel(t)
	dir := t.TempDir()
	var args []string
	for _, f := range formatImages {
		src := filepath.Join(goldenImages, "images", f)
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		img, err := imagedecode.Decode(data, imagedecode.Options{})
		require.NoError(t, err, f)
		rgba := image.NewNRGBA(image.Rect(0, 0, img.Width, img.Height))
		for p := 0; p < img.Width*img.Height; p++ {
			copy(rgba.Pix[4*p:], img.Pix[3*p:3*p+3])
			rgba.Pix[4*p+3] = 255
		}
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, rgba))
		same := filepath.Join(dir, filepath.Base(f)+".png")
		require.NoError(t, os.WriteFile(same, buf.Bytes(), 0o644))
		args = append(args, src, same)
	}
	out, stderr, code := runCLI(t, append([]string{"embed", "--model-dir", model}, args...)...)
	require.Equal(t, 0, code, stderr)
	var got embedOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Images, 2*len(formatImages))
	for i, f := range formatImages {
		a, b := got.Images[2*i], got.Images[2*i+1]
		require.Empty(t, a.Error, f)
		require.Len(t, a.Vector, 512, f)
		assert.InDeltaSlice(t, b.Vector, a.Vector, 1e-6, f)
	}
}
