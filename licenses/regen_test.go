// Package licenses_test checks that licenses/go-modules.txt is current.
package licenses_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoModulesCurrent: the committed licence file is what licenses/regen
// writes from today's go.mod (a new or updated module changes it).
func TestGoModulesCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the modules of the Weaviate server: slow")
	}
	want := filepath.Join(t.TempDir(), "go-modules.txt")
	out, err := exec.Command("bash", "regen", want).CombinedOutput()
	require.NoError(t, err, string(out))
	got, err := os.ReadFile("go-modules.txt")
	require.NoError(t, err)
	regenerated, err := os.ReadFile(want)
	require.NoError(t, err)
	assert.True(t, string(got) == string(regenerated),
		"licenses/go-modules.txt is out of date: run `bash licenses/regen` and commit it")
	assert.Contains(t, string(got), "module github.com/weaviate/weaviate@")
	assert.Contains(t, string(got), "module github.com/yalue/onnxruntime_go@")
}
