package containers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mclip-go/mclip/integration/harness"
)

// TestEntrypointModules runs the images' entrypoint (deploy/docker/entrypoint)
// in front of a stand-in Weaviate: the ENABLE_MODULES Weaviate starts with,
// and whether a model is pulled first.
func TestEntrypointModules(t *testing.T) {
	root := harness.RepoRoot(t)
	for _, tc := range []struct {
		name   string
		argv   []string
		env    map[string]string
		want   []string // ENABLE_MODULES, nil: unset
		pulled bool
	}{
		{name: "no modules", env: map[string]string{}},
		{name: "other modules only", env: map[string]string{"ENABLE_MODULES": "backup-filesystem"},
			want: []string{"backup-filesystem"}},
		{name: "the module in ENABLE_MODULES", env: map[string]string{"ENABLE_MODULES": "multi2vec-mclip"},
			want: []string{"multi2vec-mclip"}, pulled: true},
		{name: "added after those there, once each",
			env:  map[string]string{"ENABLE_MODULES": "text2vec-openai, multi2vec-mclip", "MCLIP_ADD_MODULES": "multi2vec-mclip,backup-s3"},
			want: []string{"text2vec-openai", "multi2vec-mclip", "backup-s3"}, pulled: true},
		{name: "added to none", env: map[string]string{"MCLIP_ADD_MODULES": "multi2vec-mclip"},
			want: []string{"multi2vec-mclip"}, pulled: true},
		{name: "weaviate found on PATH", argv: []string{imageEntrypoint, "weaviate", "--port", "8080"},
			env:  map[string]string{"MCLIP_ADD_MODULES": "multi2vec-mclip"},
			want: []string{"multi2vec-mclip"}, pulled: true},
		{name: "multi2vec-clip in place", env: map[string]string{"ENABLE_MODULES": "multi2vec-clip", "MCLIP_REPLACE_MULTI2VEC_CLIP": "true"},
			want: []string{"multi2vec-clip"}, pulled: true},
		{name: "multi2vec-clip in place, added", env: map[string]string{"MCLIP_ADD_MODULES": "multi2vec-clip", "MCLIP_REPLACE_MULTI2VEC_CLIP": "1"},
			want: []string{"multi2vec-clip"}, pulled: true},
		{name: "Weaviate's multi2vec-clip", env: map[string]string{"ENABLE_MODULES": "multi2vec-clip"},
			want: []string{"multi2vec-clip"}},
		// Go's strconv.ParseBool refuses "yes": Weaviate's start-up fails
		// with config's error, not after a pull.
		{name: "a switch value Go refuses", env: map[string]string{"ENABLE_MODULES": "multi2vec-clip", "MCLIP_REPLACE_MULTI2VEC_CLIP": "yes"},
			want: []string{"multi2vec-clip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := tc.argv
			if argv == nil {
				argv = []string{imageEntrypoint, imageWeaviate, "--host", "0.0.0.0"}
			}
			env := map[string]string{"MCLIP_MODEL_DIR": "/models"}
			for k, v := range tc.env {
				env[k] = v
			}
			s := start(t, root, argv, env)
			assert.Equal(t, argv[2:], s.args)
			_, set := s.env["ENABLE_MODULES"]
			assert.Equal(t, tc.want != nil, set, "ENABLE_MODULES set")
			assert.Equal(t, tc.want, modules(s.env))
			assert.Equal(t, tc.pulled, s.pulled, "model pulled")
		})
	}
}
