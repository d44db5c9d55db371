package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const upstreamConfigureAPI = `package rest

func configureAPI() { _ = registerModules(nil) }

// registerModules registers the modules.
func registerModules(appState *state.State) error {
	return nil
}
`

func TestRequiredVersion(t *testing.T) {
	tests := []struct {
		name, gomod, want, wantErr string
	}{
		{name: "require block", gomod: "module x\n\nrequire (\n\tgithub.com/weaviate/weaviate v1.35.2 // indirect\n\tgithub.com/weaviate/weaviate-go-client/v5 v5.5.0\n)\n", want: "v1.35.2"},
		{name: "single require", gomod: "module x\nrequire github.com/weaviate/weaviate v1.36.0\n", want: "v1.36.0"},
		{name: "only the client", gomod: "module x\nrequire github.com/weaviate/weaviate-go-client/v5 v5.5.0\n", wantErr: "does not require"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := requiredVersion([]byte(tt.gomod), WeaviateModule)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRenameRegisterModules(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{name: "one declaration", src: upstreamConfigureAPI},
		{name: "none", src: "package rest\n\nfunc registerAllModules() {}\n", wantErr: "found 0"},
		{name: "two", src: upstreamConfigureAPI + "\nfunc registerModules(x int) {}\n", wantErr: "found 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "configure_api.go")
			require.NoError(t, os.WriteFile(p, []byte(tt.src), 0o644))
			err := renameRegisterModules(p)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.ErrorContains(t, err, "upstream changed")
				return
			}
			require.NoError(t, err)
			got, _ := os.ReadFile(p)
			assert.Contains(t, string(got), "func registerUpstreamModules(appState *state.State) error {")
			assert.Contains(t, string(got), "_ = registerModules(nil)", "the call site calls the generated function")
			assert.NotContains(t, string(got), "func registerModules(")
		})
	}
}

func TestMergedGoSum(t *testing.T) {
	dir := t.TempDir()
	ours, build := filepath.Join(dir, "ours.sum"), filepath.Join(dir, "build.sum")
	require.NoError(t, os.WriteFile(ours, []byte("b v1 h1:b\na v1 h1:a\n"), 0o644))
	got, err := mergedGoSum(ours, build)
	require.NoError(t, err)
	assert.Equal(t, "a v1 h1:a\nb v1 h1:b\n", string(got), "no build go.sum yet")

	require.NoError(t, os.WriteFile(build, []byte("c v1 h1:c\na v1 h1:a\n"), 0o644))
	got, err = mergedGoSum(ours, build)
	require.NoError(t, err)
	assert.Equal(t, "a v1 h1:a\nb v1 h1:b\nc v1 h1:c\n", string(got))
}

func TestRun(t *testing.T) {
	root := t.TempDir()
	cache := filepath.Join(t.TempDir(), "weaviate@v1.35.2")
	restDir := filepath.Join(cache, "adapters", "handlers", "rest")
	require.NoError(t, os.MkdirAll(restDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(restDir, "configure_api.go"), []byte(upstreamConfigureAPI), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "go.mod"), []byte("module github.com/weaviate/weaviate\n"), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"),
		[]byte("module github.com/mclip-go/mclip\n\nrequire github.com/weaviate/weaviate v1.35.2\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.sum"), []byte("x v1 h1:x\n"), 0o644))
	downloads := 0
	g := generator{root: root, out: "_build", download: func(v string) (string, error) {
		downloads++
		assert.Equal(t, "v1.35.2", v)
		return cache, nil
	}}

	changed, err := g.run()
	require.NoError(t, err)
	assert.Len(t, changed, 5, "copy, generated file, go.mod, go.mod.base, go.sum")
	out := filepath.Join(root, "_build")
	api, err := os.ReadFile(filepath.Join(out, "weaviate", "adapters", "handlers", "rest", "configure_api.go"))
	require.NoError(t, err)
	assert.Contains(t, string(api), "func registerUpstreamModules(")
	gen, err := os.ReadFile(filepath.Join(out, "weaviate", filepath.FromSlash(generatedFile)))
	require.NoError(t, err)
	assert.Equal(t, registerSource, string(gen))
	gomod, err := os.ReadFile(filepath.Join(out, "go.mod"))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(gomod), "replace github.com/weaviate/weaviate => ./_build/weaviate\n"), string(gomod))
	st, err := os.Stat(filepath.Join(out, "weaviate", "go.mod"))
	require.NoError(t, err)
	assert.NotZero(t, st.Mode().Perm()&0o200, "the copy is writable")

	changed, err = g.run()
	require.NoError(t, err)
	assert.Empty(t, changed, "nothing changed, nothing written")
	assert.Equal(t, 1, downloads)

	// The build may add requirements to its go.mod; they survive until
	// our go.mod changes.
	require.NoError(t, os.WriteFile(filepath.Join(out, "go.mod"), append(gomod, "require y v1\n"...), 0o644))
	changed, err = g.run()
	require.NoError(t, err)
	assert.Empty(t, changed)

	require.NoError(t, os.WriteFile(filepath.Join(root, "go.sum"), []byte("x v1 h1:x\nz v1 h1:z\n"), 0o644))
	changed, err = g.run()
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(out, "go.sum")}, changed)
}

func TestRunFailsLoudlyWhenUpstreamChanged(t *testing.T) {
	root := t.TempDir()
	cache := t.TempDir()
	restDir := filepath.Join(cache, "adapters", "handlers", "rest")
	require.NoError(t, os.MkdirAll(restDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(restDir, "configure_api.go"), []byte("package rest\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"),
		[]byte("module m\nrequire github.com/weaviate/weaviate v1.99.0\n"), 0o644))
	g := generator{root: root, out: "_build", download: func(string) (string, error) { return cache, nil }}
	_, err := g.run()
	assert.ErrorContains(t, err, "want exactly one `func registerModules(`, found 0")
}
