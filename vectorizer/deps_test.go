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

// The benchmarks' knobs (onnxsession.Tuning) stay out of the runtime's
// code paths: no non-test file outside onnxsession and bench sets them.
func TestRuntimeLeavesTuningAlone(t *testing.T) {
	out, err := exec.Command("git", "grep", "-l", "-E", `\bTuning\b`, "--", "../*.go", ":!../**/*_test.go").CombinedOutput()
	require.NoError(t, err, "%s", out)
	files := strings.Fields(string(out))
	require.Contains(t, files, "onnxsession/onnxsession.go", "the search finds the type itself")
	for _, f := range files {
		if !strings.HasPrefix(f, "onnxsession/") && !strings.HasPrefix(f, "../bench/") {
			t.Errorf("%s uses onnxsession.Tuning: the runtime runs with mclip's defaults", f)
		}
	}
}
