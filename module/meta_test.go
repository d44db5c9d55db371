package module

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/testfixture/fakeencoder"
)

// The module's /v1/meta entry names the model (MCLIP_MODEL); under the
// replace switch it also names the image whose vectors it keeps.
func TestMetaInfoNamesTheModel(t *testing.T) {
	tests := []struct {
		name      string
		module    func(*testing.T, *fakeencoder.Encoder) *Module
		vectorsOf any
	}{
		{"multi2vec-mclip", newTestModule, nil},
		{"multi2vec-clip replaced", newTestClipModule, "semitechnologies/multi2vec-clip:" + catalog.Default + " (MCLIP_MODEL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta, err := tt.module(t, &fakeencoder.Encoder{}).MetaInfo()
			require.NoError(t, err)
			assert.Equal(t, catalog.Default, meta["model"])
			assert.Equal(t, tt.vectorsOf, meta["vectorsOf"])
			assert.NotContains(t, meta, "textPooling", "the default model offers no pooling choice")
		})
	}
}
