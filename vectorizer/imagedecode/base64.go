package imagedecode

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrBase64 is wrapped by DecodeBase64's errors.
var ErrBase64 = errors.New("invalid base64 image")

// DecodeBase64 decodes Weaviate's base64 image blob: plain base64 or a data
// URI ("data:image/png;base64,..."), in the standard or URL-safe alphabet,
// padded or not, with any whitespace (line breaks) inside. A data URI must
// have an image media type and the base64 flag.
func DecodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "data:") {
		comma := strings.IndexByte(s, ',')
		if comma < 0 {
			return nil, fmt.Errorf("%w: data URI without a comma", ErrBase64)
		}
		meta := strings.Split(s[5:comma], ";")
		media := strings.ToLower(strings.TrimSpace(meta[0]))
		if !strings.HasPrefix(media, "image/") {
			return nil, fmt.Errorf("%w: data URI media type %q is not an image", ErrBase64, meta[0])
		}
		isB64 := false
		for _, p := range meta[1:] {
			if strings.EqualFold(strings.TrimSpace(p), "base64") {
				isB64 = true
			}
		}
		if !isB64 {
			return nil, fmt.Errorf("%w: data URI is not base64-encoded (no ;base64)", ErrBase64)
		}
		s = s[comma+1:]
	}
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
		case '-':
			clean = append(clean, '+')
		case '_':
			clean = append(clean, '/')
		default:
			clean = append(clean, c)
		}
	}
	str := strings.TrimRight(string(clean), "=")
	if str == "" {
		return nil, fmt.Errorf("%w: empty", ErrBase64)
	}
	out, err := base64.RawStdEncoding.DecodeString(str)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: bad character or length at offset %d", ErrBase64, int64(ce))
		}
		return nil, fmt.Errorf("%w: %v", ErrBase64, err)
	}
	return out, nil
}
