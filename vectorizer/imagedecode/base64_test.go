package imagedecode

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeBase64(t *testing.T) {
	raw := readImage(t, "png_1x1.png")
	std := base64.StdEncoding.EncodeToString(raw)
	url := base64.URLEncoding.EncodeToString(raw)
	wrapped := ""
	for i := 0; i < len(std); i += 20 {
		wrapped += std[i:min(i+20, len(std))] + "\r\n"
	}
	ok := []struct {
		name, in string
	}{
		{"std", std},
		{"std unpadded", strings.TrimRight(std, "=")},
		{"url", url},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(raw)},
		{"wrapped lines", wrapped},
		{"surrounding space", "  \n" + std + "\t "},
		{"data uri", "data:image/png;base64," + std},
		{"data uri upper case", "DATA:IMAGE/PNG;BASE64," + std},
		{"data uri with charset", "data:image/jpeg;charset=utf-8;base64," + url},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeBase64(tt.in)
			require.NoError(t, err)
			assert.Equal(t, raw, got)
		})
	}
	bad := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty"},
		{"only whitespace", " \n ", "empty"},
		{"bad character", std[:8] + "*" + std[9:], "bad character or length at offset 8"},
		{"impossible length", "abcde", "bad character or length"},
		{"text data uri", "data:text/plain;base64," + std, `media type "text/plain" is not an image`},
		{"data uri without base64", "data:image/png," + std, "not base64-encoded"},
		{"data uri without comma", "data:image/png;base64", "without a comma"},
		{"data uri empty payload", "data:image/png;base64,", "empty"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBase64(tt.in)
			require.ErrorIs(t, err, ErrBase64)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}
