package vectorizer

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
// code paths: no non-test Go file outside onnxsession and bench names them.
// The source tree is walked and parsed, so no git checkout is needed.
func TestRuntimeLeavesTuningAlone(t *testing.T) {
	files, err := tuningUsers("..")
	require.NoError(t, err)
	require.Contains(t, files, "vectorizer/onnxsession/onnxsession.go", "the search finds onnxsession's own uses")
	require.Contains(t, files, "bench/settings.go", "the search finds the benchmarks' uses")
	for _, f := range files {
		if !strings.HasPrefix(f, "vectorizer/onnxsession/") && !strings.HasPrefix(f, "bench/") {
			t.Errorf("%s uses onnxsession.Tuning: the runtime runs with mclip's defaults", f)
		}
	}
}

func TestUsesTuning(t *testing.T) {
	tests := []struct {
		name, src string
		want      bool
	}{
		{"the type through the package", "var t onnxsession.Tuning", true},
		{"the type through an alias", "var t ort.Tuning", true},
		{"a field of Options", "func f(o *onnxsession.Options) { o.Tuning.SkipFusion = true }", true},
		{"a key of an Options literal", "var o = onnxsession.Options{Tuning: x}", true},
		{"a comment only", "// Tuning is for the benchmarks\nvar x int", false},
		{"a string only", `var s = "onnxsession.Tuning"`, false},
		{"other options", "var o = onnxsession.Options{IntraOpThreads: 1}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := usesTuning("x.go", []byte("package x\n"+tt.src+"\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// tuningUsers lists, relative to root and with slashes, the non-test Go
// files under root that name a Tuning field or type (usesTuning). It skips
// what setup_test's walk skips: build outputs, caches, vendored and
// hidden directories.
func tuningUsers(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "_build" || name == "third_party" ||
				name == "node_modules" || name == "bin" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		uses, err := usesTuning(path, src)
		if err != nil {
			return err
		}
		if uses {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// usesTuning reports whether Go source names Tuning in code: a selector
// (onnxsession.Tuning, opts.Tuning) or a key of a composite literal
// (onnxsession.Options{Tuning: ...}). Comments and strings do not count.
func usesTuning(filename string, src []byte) (bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filename, src, parser.SkipObjectResolution)
	if err != nil {
		return false, fmt.Errorf("parse %s: %w", filename, err)
	}
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			found = found || n.Sel.Name == "Tuning"
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Tuning" {
				found = true
			}
		}
		return !found
	})
	return found, nil
}
