package integration_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
)

// acceptanceEndpointTest is the one file added to the copy of Weaviate's
// test/modules/multi2vec-clip: its own TestMulti2VecClip_SingleNode
// (setup_test.go, not copied) starts Weaviate and the inference container
// with Docker through test/docker; this runs the same testMulti2VecClip
// against a server that is already running.
const acceptanceEndpointTest = `package test

import (
	"os"
	"testing"
)

func TestMulti2VecClip_Endpoint(t *testing.T) {
	endpoint := os.Getenv("MCLIP_ACCEPTANCE_ENDPOINT")
	if endpoint == "" {
		t.Fatal("MCLIP_ACCEPTANCE_ENDPOINT (host:port of a running Weaviate) is not set")
	}
	t.Run("multi2vec-clip", testMulti2VecClip(endpoint))
}
`

// TestAcceptanceMulti2VecClip runs Weaviate's own acceptance test for
// multi2vec-clip (test/modules/multi2vec-clip of the weaviate module this
// repository requires) against both ways mclip serves multi2vec-clip: stock
// Weaviate with `mclip serve` as CLIP_INFERENCE_API, and weaviate-mclip
// with MCLIP_REPLACE_MULTI2VEC_CLIP=true, on generated models. The test is
// compiled from a copy made here, in a temporary folder, from the module
// cache (`make acceptance` runs only this).
//
// Nothing of it is skipped: none of its assertions depends on real CLIP
// weights. Its one search is nearImage with one of the imported images on
// the image-only vector, which must find that image first with certainty
// >= 0.6 (the image's own vector, distance 0, for any model), and it checks
// 512-dimensional vectors, which the generated models have too. Were an
// assertion to need real weights, it would be skipped here by its full
// name with -test.skip and the reason, not weakened.
func TestAcceptanceMulti2VecClip(t *testing.T) {
	mclipBin := harness.Binary(t, "mclip", "make build")
	mclipWeaviate := harness.Binary(t, "weaviate-mclip", "make weaviate")
	stockWeaviate := harness.Binary(t, "weaviate-stock", "make weaviate-stock")
	root := harness.RepoRoot(t)
	testBin, testDir := buildWeaviateAcceptance(t, root)

	models := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: models, Size: modelgen.Tiny, Seed: 35}))
	modelEnv := map[string]string{"MCLIP_MODEL_DIR": models, "MCLIP_THREADS": "1"}
	if lib := filepath.Join(root, "third_party", "onnxruntime", "libonnxruntime.so.1"); fileExists(lib) {
		modelEnv["ONNXRUNTIME_LIB"] = lib
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for _, m := range []map[string]string{modelEnv, extra} {
			for k, v := range m {
				env[k] = v
			}
		}
		return env
	}
	ways := []struct {
		name  string
		start func(t *testing.T) *harness.Weaviate
	}{
		{"stock+mclip-serve", func(t *testing.T) *harness.Weaviate {
			port := harness.FreePort(t)
			harness.Start(t, harness.Config{
				Binary:   mclipBin,
				Args:     []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port)},
				Env:      with(nil),
				ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/.well-known/ready", port),
			})
			return startWeaviateFreshPorts(t, stockWeaviate, map[string]string{
				"ENABLE_MODULES":     "multi2vec-clip",
				"CLIP_INFERENCE_API": fmt.Sprintf("http://127.0.0.1:%d", port),
			})
		}},
		{"weaviate-mclip-replace", func(t *testing.T) *harness.Weaviate {
			return startWeaviateFreshPorts(t, mclipWeaviate, with(map[string]string{
				"ENABLE_MODULES":               "multi2vec-clip",
				"MCLIP_REPLACE_MULTI2VEC_CLIP": "true",
			}))
		}},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			w := way.start(t)
			args := []string{"-test.run", "^TestMulti2VecClip_Endpoint$", "-test.v", "-test.count=1"}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, testBin, args...)
			// testMulti2VecClip reads its images at
			// ../../../test/helper/sample-schema/multimodal/data
			cmd.Dir = testDir
			cmd.Env = append(os.Environ(), "MCLIP_ACCEPTANCE_ENDPOINT="+w.HTTPHost())
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "Weaviate's multi2vec-clip acceptance test:\n%s", out)
			for _, sub := range []string{"multi2vec-clip/import_data", "multi2vec-clip/check_objects", "multi2vec-clip/nearImage"} {
				assert.Contains(t, string(out), "--- PASS: TestMulti2VecClip_Endpoint/"+sub+" ", "%s", out)
			}
		})
	}
}

// buildWeaviateAcceptance copies test/modules/multi2vec-clip's test file
// from the weaviate module in the module cache into a temporary module
// (this repository's go.mod, renamed, so the versions are the ones the
// binaries are built with), adds acceptanceEndpointTest, links the sample
// data where the test looks for it and compiles it. It returns the test
// binary and the folder to run it in. Nothing of Weaviate's is written into
// the repository.
func buildWeaviateAcceptance(t *testing.T, root string) (testBin, testDir string) {
	t.Helper()
	out, err := exec.Command("go", "-C", root, "list", "-m", "-f", "{{.Dir}}", "github.com/weaviate/weaviate").Output()
	require.NoError(t, err, "go list -m github.com/weaviate/weaviate")
	weaviateDir := strings.TrimSpace(string(out))
	src := filepath.Join(weaviateDir, "test", "modules", "multi2vec-clip", "multi2vec_clip_test.go")
	data := filepath.Join(weaviateDir, "test", "helper", "sample-schema", "multimodal", "data")
	require.FileExists(t, src, "the weaviate module's source (go mod download github.com/weaviate/weaviate)")
	require.DirExists(t, data)

	mod := t.TempDir()
	testDir = filepath.Join(mod, "test", "modules", "multi2vec-clip")
	require.NoError(t, os.MkdirAll(testDir, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "test", "helper", "sample-schema", "multimodal"), 0o755))
	require.NoError(t, os.Symlink(data, filepath.Join(mod, "test", "helper", "sample-schema", "multimodal", "data")))

	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goMod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(goMod, []byte("module mclipacceptance"))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), goMod, 0o644))
	var goSum []byte
	for _, f := range []string{"go.sum", "_build/stock/go.sum", "_build/go.sum"} {
		if b, err := os.ReadFile(filepath.Join(root, f)); err == nil {
			goSum = append(goSum, b...)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.sum"), goSum, 0o644))
	test, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(testDir, filepath.Base(src)), test, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(testDir, "mclip_endpoint_test.go"), []byte(acceptanceEndpointTest), 0o644))

	testBin = filepath.Join(mod, "multi2vec-clip.test")
	cmd := exec.Command("go", "test", "-mod=mod", "-c", "-o", testBin, "./test/modules/multi2vec-clip")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "compile Weaviate's multi2vec-clip acceptance test: %s", out)
	return testBin, testDir
}
