package vision

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// TestDecodeCropEqualsDecodeThenCrop checks DecodeCrop (which takes still
// lossy WebPs through their YUV rows) against Decode then Crop, whose
// crops the golden tests check against Pillow's: on every test image, the
// corpus of bench/photos when it is there, and EXIF-rotated.
func TestDecodeCropEqualsDecodeThenCrop(t *testing.T) {
	prep := clipprep.Default()
	files, err := filepath.Glob(filepath.Join("..", "imagedecode", "testdata", "images", "*"))
	require.NoError(t, err)
	corpus, _ := filepath.Glob(filepath.Join("..", "..", ".cache", "photos", "images", "*.webp"))
	files = append(files, corpus...)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, opts := range []imagedecode.Options{{}, {ApplyEXIF: true}} {
			t.Run(filepath.Base(f), func(t *testing.T) {
				img, decErr := imagedecode.Decode(data, opts)
				size, crop, err := DecodeCrop(data, prep, opts)
				if decErr != nil {
					assert.Equal(t, decErr, err)
					assert.Nil(t, size)
					return
				}
				want, wantErr := prep.Crop(img)
				require.NotNil(t, size)
				assert.Equal(t, ImageSize{img.Width, img.Height}, *size)
				assert.Equal(t, wantErr, err)
				assert.Equal(t, want, crop)
			})
		}
	}
}
