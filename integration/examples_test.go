package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// TestExamples runs the client examples of examples/ as their README says,
// against both ways of running: a multi2vec-mclip collection in
// weaviate-mclip, and a multi2vec-clip collection in stock Weaviate whose
// inference API is `mclip serve`. The Go example is built from the module;
// the TypeScript one is installed from its lock file (npm ci), compiled with
// tsc --strict and run with node. The Python client cannot be installed
// here (no PyPI): TestExamplesPython only compiles the example.
func TestExamples(t *testing.T) {
	mclipBin := harness.Binary(t, "mclip", "make build")
	mclipWeaviate := harness.Binary(t, "weaviate-mclip", "make weaviate")
	stockWeaviate := harness.Binary(t, "weaviate-stock", "make weaviate-stock")
	root := harness.RepoRoot(t)

	models := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: models, Size: modelgen.Tiny, Seed: 16}))
	imagePath := filepath.Join(t.TempDir(), "photo.png")
	require.NoError(t, os.WriteFile(imagePath, testimage.GradientPNG(3, 32, 24), 0o644))

	goExample := filepath.Join(t.TempDir(), "example")
	out, err := exec.Command("go", "build", "-o", goExample, filepath.Join(root, "examples", "go")).CombinedOutput()
	require.NoError(t, err, "go build examples/go: %s", out)
	tsExample := filepath.Join(buildTypeScriptExamples(t, root), "example.js")

	ortEnv := map[string]string{}
	if lib := filepath.Join(root, "third_party", "onnxruntime", "libonnxruntime.so.1"); fileExists(lib) {
		ortEnv["ONNXRUNTIME_LIB"] = lib
	}
	ways := []struct {
		mode  string
		start func(t *testing.T) *harness.Weaviate
	}{
		{"mclip", func(t *testing.T) *harness.Weaviate {
			env := map[string]string{"ENABLE_MODULES": "multi2vec-mclip", "MCLIP_MODEL_DIR": models, "MCLIP_THREADS": "1"}
			for k, v := range ortEnv {
				env[k] = v
			}
			return startWeaviateFreshPorts(t, mclipWeaviate, env)
		}},
		{"clip", func(t *testing.T) *harness.Weaviate {
			port := harness.FreePort(t)
			env := map[string]string{"MCLIP_MODEL_DIR": models, "MCLIP_THREADS": "1"}
			for k, v := range ortEnv {
				env[k] = v
			}
			harness.Start(t, harness.Config{
				Binary:   mclipBin,
				Args:     []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port)},
				Env:      env,
				ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/.well-known/ready", port),
			})
			return startWeaviateFreshPorts(t, stockWeaviate, map[string]string{
				"ENABLE_MODULES":     "multi2vec-clip",
				"CLIP_INFERENCE_API": fmt.Sprintf("http://127.0.0.1:%d", port),
			})
		}},
	}
	for _, way := range ways {
		t.Run(way.mode, func(t *testing.T) {
			w := way.start(t)
			clients := []struct {
				name string
				cmd  []string
			}{
				{"go", []string{goExample, "-mode", way.mode, "-host", w.HTTPHost(), "-grpc-host", w.GRPCHost(), "-image", imagePath}},
				{"typescript", []string{"node", tsExample, "--mode", way.mode, "--host", "127.0.0.1",
					"--port", fmt.Sprint(w.HTTPPort), "--grpc-port", fmt.Sprint(w.GRPCPort), "--image", imagePath}},
			}
			for _, c := range clients {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
					defer cancel()
					out, err := exec.CommandContext(ctx, c.cmd[0], c.cmd[1:]...).CombinedOutput()
					require.NoError(t, err, "%s", out)
					assert.Contains(t, string(out), "imported 4 objects into Example")
					assert.Equal(t, 2, strings.Count(string(out), `nearText "a dog in the snow": `), "%s", out)
					assert.Contains(t, string(out), "nearImage: the imported image comes first (distance 0.0000)")
				})
			}
			if way.mode == "mclip" {
				t.Run("meta shows the build's version", func(t *testing.T) { checkMetaVersion(t, root, w) })
			}
		})
	}
}

// startWeaviateFreshPorts is harness.StartWeaviate, tried again on new ports
// when one of the free ports it picked was taken before Weaviate bound it
// (other tests run on this machine at the same time).
func startWeaviateFreshPorts(t *testing.T, binary string, env map[string]string) *harness.Weaviate {
	t.Helper()
	for attempt := 1; ; attempt++ {
		w := harness.NewWeaviate(t, binary, env)
		srv, err := harness.Launch(w.Config)
		if err == nil {
			w.Server = srv
			t.Cleanup(func() {
				srv.Stop()
				if t.Failed() {
					t.Logf("%s log:\n%s", filepath.Base(binary), srv.Logs())
				}
			})
			return w
		}
		var logs string
		if srv != nil {
			srv.Stop()
			logs = srv.Logs()
		}
		if attempt < 3 && strings.Contains(logs, "address already in use") {
			t.Logf("%s: a port was taken meanwhile, trying new ones", filepath.Base(binary))
			continue
		}
		t.Fatalf("start %s: %v\n%s", filepath.Base(binary), err, logs)
	}
}

// buildTypeScriptExamples copies examples/typescript (package.json, its
// lock file, tsconfig.json and src/), installs it from the lock file (npm
// ci) and compiles it with tsc --strict; it returns the folder of the
// compiled scripts (example.js, multi2vecclip.js). The one home for the
// TypeScript client in the tests: TestExamples and TestReplaceMulti2VecClip
// both run it.
func buildTypeScriptExamples(t *testing.T, root string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm is one of the prerequisites (make setup installs it): %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(root, "examples", "typescript")
	files := []string{"package.json", "package-lock.json", "tsconfig.json"}
	sources, err := filepath.Glob(filepath.Join(src, "src", "*.ts"))
	require.NoError(t, err)
	require.NotEmpty(t, sources, "no TypeScript sources in %s/src", src)
	for _, s := range sources {
		files = append(files, filepath.Join("src", filepath.Base(s)))
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	for _, args := range [][]string{
		{"npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"},
		{filepath.Join(dir, "node_modules", ".bin", "tsc"), "--strict", "-p", "."},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
	}
	return filepath.Join(dir, "dist")
}

// checkMetaVersion: weaviate-mclip built by the Makefile reports, in
// /v1/meta, the version and a commit of this repository (set with -ldflags;
// a plain go build would say "devel").
func checkMetaVersion(t *testing.T, root string, w *harness.Weaviate) {
	status, body := call(t, "GET", "http://"+w.HTTPHost()+"/v1/meta", nil)
	require.Equal(t, 200, status, "%s", body)
	var meta struct {
		Modules map[string]map[string]any `json:"modules"`
	}
	require.NoError(t, json.Unmarshal(body, &meta))
	m := meta.Modules["multi2vec-mclip"]
	require.NotNil(t, m, "%s", body)
	assert.NotEmpty(t, m["onnxruntime"])
	version, _ := m["version"].(string)
	commit, _ := m["commit"].(string)
	if err := exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	assert.NotEqual(t, "devel", version, "the Makefile sets the version")
	require.Regexp(t, `^[0-9a-f]{40}$`, commit)
	out, err := exec.Command("git", "-C", root, "cat-file", "-t", commit).CombinedOutput()
	assert.NoError(t, err, "commit %s is not in this repository: %s", commit, out)
}

// TestExamplesPython compiles the Python example; running it needs
// weaviate-client from PyPI, which CI cannot reach.
func TestExamplesPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is one of the prerequisites (make setup installs it): %v", err)
	}
	out, err := exec.Command(python, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
		filepath.Join(harness.RepoRoot(t), "examples", "python", "example.py"), filepath.Join(t.TempDir(), "example.pyc")).CombinedOutput()
	require.NoError(t, err, "%s", out)
}
