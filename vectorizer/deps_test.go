package vectorizer

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The runtime (what Weaviate and `mclip serve` link) must not import the
// model generator or test support code: the model file formats live in
// modelfile/, which both the runtime and modelgen import. (testify is not
// on the list: Weaviate's own module interfaces import testify/mock.)
func TestRuntimeImportsNoGeneratorOrTestCode(t *testing.T) {
	runtime := []string{"./...", "../module/...", "../inferenceapi/...", "../modelstore", "../config/...", "../modelfile/..."}
	forbidden := []string{
		"github.com/mclip-go/mclip/modelgen",
		"github.com/mclip-go/mclip/integration",
		"github.com/mclip-go/mclip/modelstore/hubtest",
		"github.com/mclip-go/mclip/testfixture",
	}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, runtime...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/mclip-go/mclip/modelfile/onnxpb", "the list covers the runtime")
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("the runtime depends on %s", dep)
			}
		}
	}
}
