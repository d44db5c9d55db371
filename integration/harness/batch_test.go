package harness

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatchResultErr(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"stored", `{"id":"a","result":{}}`, ""},
		{"one error", `{"id":"a","result":{"errors":{"error":[{"message":"bad image"}]}}}`, "bad image"},
		{"two errors", `{"id":"a","result":{"errors":{"error":[{"message":"x"},{"message":"y"}]}}}`, "x; y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r BatchResult
			require.NoError(t, json.Unmarshal([]byte(tt.answer), &r))
			assert.Equal(t, "a", r.ID)
			assert.Equal(t, tt.want, r.Err())
		})
	}
}
