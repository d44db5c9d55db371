package containers_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/mclip-go/mclip/integration/harness"
)

// chartValues regenerates deploy/helm/chart-keys.txt from a copy of the
// chart's values.yaml (deploy/helm/update-chart-keys).
var chartValues = flag.String("chart-values", "", "the Weaviate Helm chart's values.yaml: rewrite deploy/helm/chart-keys.txt from it")

// freeMaps are chart keys whose children are the user's own names.
var freeMaps = map[string]bool{"env": true}

// TestHelmValues checks that every key our values files set is a key of
// Weaviate's Helm chart (its values.yaml, flattened into
// deploy/helm/chart-keys.txt), so that a typo or a renamed key fails here
// rather than being ignored by helm. The chart itself cannot be fetched or
// rendered on the CI machines.
func TestHelmValues(t *testing.T) {
	root := harness.RepoRoot(t)
	keysFile := filepath.Join(root, "deploy/helm/chart-keys.txt")
	if *chartValues != "" {
		b, err := os.ReadFile(*chartValues)
		require.NoError(t, err)
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal(b, &doc))
		var keys []string
		flatten(doc.Content[0], "", func(path string, _ *yaml.Node) { keys = append(keys, path) })
		sort.Strings(keys)
		require.NoError(t, os.WriteFile(keysFile, []byte(strings.Join(keys, "\n")+"\n"), 0o644))
	}
	b, err := os.ReadFile(keysFile)
	require.NoError(t, err)
	chart := map[string]bool{}
	for _, k := range strings.Fields(string(b)) {
		chart[k] = true
	}
	require.Contains(t, chart, "modules.multi2vec-clip.registry", "chart-keys.txt is not the chart's")

	files, err := filepath.Glob(filepath.Join(root, "deploy/helm/*.values.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 2)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			var doc yaml.Node
			require.NoError(t, yaml.Unmarshal(b, &doc))
			n := 0
			flatten(doc.Content[0], "", func(path string, _ *yaml.Node) {
				n++
				parent := path[:max(0, strings.LastIndex(path, "."))]
				if freeMaps[parent] {
					return
				}
				assert.True(t, chart[path], "%s is not a key of the chart's values.yaml", path)
			})
			assert.Positive(t, n)
		})
	}
}

// flatten calls fn with the dotted path of every mapping key under n; it
// does not descend into sequences.
func flatten(n *yaml.Node, prefix string, fn func(string, *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		path := n.Content[i].Value
		if prefix != "" {
			path = prefix + "." + path
		}
		fn(path, n.Content[i+1])
		flatten(n.Content[i+1], path, fn)
	}
}
