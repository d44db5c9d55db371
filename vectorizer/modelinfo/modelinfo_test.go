package modelinfo

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheProblems(t *testing.T) {
	tests := []struct {
		name string
		info Info
		want map[string]string
	}{
		{"none", Info{Text: Tower{File: "t"}, Vision: Tower{File: "v"}}, map[string]string{}},
		{"one tower", Info{Vision: Tower{OptimizedError: "read-only"}}, map[string]string{"vision": "read-only"}},
		{"both", Info{Text: Tower{OptimizedError: "a"}, Vision: Tower{OptimizedError: "b"}}, map[string]string{"text": "a", "vision": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.info.CacheProblems())
		})
	}
}

func TestModelDirStaysOutOfJSON(t *testing.T) {
	b, err := json.Marshal(Info{ModelDir: "/srv/models", Dimensions: 512})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "/srv/models")
	assert.Contains(t, string(b), `"dimensions":512`)
}
