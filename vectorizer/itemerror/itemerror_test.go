package itemerror

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassification(t *testing.T) {
	bad := errors.New("decode png: corrupt data")
	broken := errors.New("run /models/vision.onnx: out of memory")
	tests := []struct {
		name         string
		err          error
		wantMessage  string
		wantCause    error
		wantInternal bool
	}{
		{"input's fault", &Error{Kind: "image", Index: 12, Err: bad}, "image 12: decode png: corrupt data", bad, false},
		{"encoder's fault", &Error{Kind: "text", Index: 3, Err: &Internal{Err: broken}}, "text 3: run /models/vision.onnx: out of memory", &Internal{Err: broken}, true},
		{"wrapped further", fmt.Errorf("batch: %w", &Error{Kind: "text", Index: 0, Err: &Internal{Err: broken}}), "batch: text 0: run /models/vision.onnx: out of memory", &Internal{Err: broken}, true},
		{"internal without an item", &Internal{Err: broken}, broken.Error(), &Internal{Err: broken}, true},
		{"plain error", bad, bad.Error(), bad, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantMessage, tt.err.Error())
			assert.Equal(t, tt.wantCause, Cause(tt.err))
			assert.Equal(t, tt.wantInternal, IsInternal(tt.err))
		})
	}
}
