package imagedecode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeBase64 feeds arbitrary strings to DecodeBase64: it must
// return bytes or an ErrBase64 error, never panic; and the bytes of any
// input, encoded in each form Weaviate may hold (standard, URL-safe,
// unpadded, wrapped, as a data URI), must come back unchanged.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{
		"", "=", "====", "QQ", "QQ==", "QUI=", "QUJD", " Q U J D \n", "data:", "data:,", "data:image/png;base64,",
		"data:image/png;base64,QUJD", "DATA:IMAGE/PNG;BASE64,QUJD", "data:text/plain;base64,QUJD", "data:image/png,QUJD",
		"data:image/png;charset=utf-8;base64,QUJD", "-_-_", "+/+/", "QUJD=QUJD", "\x00\xff", "iVBORw0KGgo=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := DecodeBase64(s)
		if err != nil {
			if !errors.Is(err, ErrBase64) {
				t.Fatalf("error %v does not wrap ErrBase64", err)
			}
			if out != nil {
				t.Fatal("bytes and an error")
			}
		} else if len(out) == 0 {
			t.Fatal("no bytes and no error")
		}

		raw := []byte(s)
		if len(raw) == 0 {
			return
		}
		std := base64.StdEncoding.EncodeToString(raw)
		var wrapped strings.Builder
		for i := 0; i < len(std); i += 76 {
			wrapped.WriteString(std[i:min(i+76, len(std))])
			wrapped.WriteString("\r\n")
		}
		for _, form := range []string{
			std,
			base64.URLEncoding.EncodeToString(raw),
			base64.RawStdEncoding.EncodeToString(raw),
			base64.RawURLEncoding.EncodeToString(raw),
			wrapped.String(),
			"data:image/webp;base64," + std,
		} {
			got, err := DecodeBase64(form)
			if err != nil {
				t.Fatalf("DecodeBase64(%q): %v", form, err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("DecodeBase64(%q) = %q, want %q", form, got, raw)
			}
		}
	})
}
