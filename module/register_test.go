package module

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logrustest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/modulecapabilities"
	"github.com/weaviate/weaviate/entities/moduletools"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/testfixture/fakeencoder"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

// registry keeps one module per name, as Weaviate's provider does.
type registry map[string]modulecapabilities.Module

func (r registry) Register(m modulecapabilities.Module) { r[m.Name()] = m }

type upstreamClip struct{ modulecapabilities.Module }

func (upstreamClip) Name() string { return ClipName }

func TestRegister(t *testing.T) {
	tests := []struct {
		name      string
		enable    string
		env       map[string]string
		wantMclip bool
		wantClip  string // "ours", "upstream" or "" (not registered)
		wantLog   []string
		wantErr   string
	}{
		{name: "off by default", enable: "multi2vec-clip", wantClip: "upstream"},
		{name: "multi2vec-mclip", enable: "multi2vec-mclip, multi2vec-clip", wantMclip: true, wantClip: "upstream"},
		{name: "switch off", enable: "multi2vec-clip", env: map[string]string{config.EnvReplaceClip: "false"}, wantClip: "upstream"},
		{name: "switch on replaces multi2vec-clip", enable: "multi2vec-clip", env: map[string]string{config.EnvReplaceClip: "true"},
			wantClip: "ours", wantLog: []string{"multi2vec-clip is served in-process by mclip"}},
		{name: "switch on and CLIP_INFERENCE_API", enable: "multi2vec-clip,multi2vec-mclip",
			env:       map[string]string{config.EnvReplaceClip: "1", config.EnvClipInferenceAPI: "http://clip:8080"},
			wantMclip: true, wantClip: "ours", wantLog: []string{"served in-process", "CLIP_INFERENCE_API is ignored"}},
		{name: "switch on without multi2vec-clip enabled", enable: "text2vec-contextionary",
			env: map[string]string{config.EnvReplaceClip: "true"}, wantLog: []string{"ENABLE_MODULES does not name multi2vec-clip"}},
		{name: "bad switch value", enable: "multi2vec-clip", env: map[string]string{config.EnvReplaceClip: "sure"},
			wantErr: config.EnvReplaceClip + `="sure"`},
		{name: "bad mclip settings do not touch stock-only setups", enable: "multi2vec-clip",
			env: map[string]string{config.EnvThreads: "many"}, wantClip: "upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, hook := logrustest.NewNullLogger()
			logger.SetLevel(logrus.DebugLevel)
			r := registry{}
			if strings.Contains(tt.enable, ClipName) {
				r.Register(upstreamClip{})
			}
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			err := Register(r, tt.enable, lookup, nil, logger)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			_, gotMclip := r[Name]
			assert.Equal(t, tt.wantMclip, gotMclip)
			switch m := r[ClipName].(type) {
			case nil:
				assert.Empty(t, tt.wantClip)
			case upstreamClip:
				assert.Equal(t, "upstream", tt.wantClip)
			case *Module:
				assert.Equal(t, "ours", tt.wantClip)
				assert.Equal(t, ClipName, m.Name())
			}
			var logs []string
			for _, e := range hook.AllEntries() {
				logs = append(logs, e.Message)
			}
			for _, w := range tt.wantLog {
				assert.Contains(t, strings.Join(logs, "\n"), w)
			}
		})
	}
}

// TestIgnoredInferenceURLs: once the schema is there, each collection whose
// multi2vec-clip settings carry inferenceUrl gets one log line naming it;
// a collection created later gets its line at validation.
func TestIgnoredInferenceURLs(t *testing.T) {
	withURL := func(u string) map[string]any {
		return map[string]any{ClipName: map[string]any{"imageFields": []any{"image"}, "inferenceUrl": u}}
	}
	classes := []*models.Class{
		{Class: "Single", Vectorizer: ClipName, ModuleConfig: withURL("http://a:8080")},
		{Class: "Named", VectorConfig: map[string]models.VectorConfig{
			"v1": {Vectorizer: withURL("http://b:8080")}, "v2": {Vectorizer: withURL("http://b:8080")},
		}},
		{Class: "Plain", Vectorizer: ClipName, ModuleConfig: map[string]any{ClipName: map[string]any{"imageFields": []any{"image"}}}},
	}
	ready := make(chan struct{})
	logger, hook := logrustest.NewNullLogger()
	m := NewClip()
	m.load = func(context.Context, config.Config) (encoder, modelinfo.Info, error) {
		return &fakeencoder.Encoder{}, modelinfo.Info{Dimensions: fakeencoder.Dim}, nil
	}
	m.classes = func() ([]*models.Class, bool) {
		select {
		case <-ready:
			return classes, true
		default:
			return nil, false
		}
	}
	require.NoError(t, m.Init(context.Background(), moduletools.NewInitParams(nil, nil, nil, logger, nil)))
	defer m.Close()
	close(ready)
	collections := func() map[string]int {
		out := map[string]int{}
		for _, e := range hook.AllEntries() {
			if c, ok := e.Data["collection"].(string); ok {
				out[c]++
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(collections()) == 2 }, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, map[string]int{"Single": 1, "Named": 1}, collections())

	cfg := cfgOf(map[string]any{"imageFields": []any{"image"}, "inferenceUrl": "http://c:8080"})
	require.NoError(t, m.ValidateClass(context.Background(), &models.Class{Class: "Later"}, cfg))
	require.NoError(t, m.ValidateClass(context.Background(), &models.Class{Class: "Later"}, cfg))
	assert.Equal(t, map[string]int{"Single": 1, "Named": 1, "Later": 1}, collections())
}
