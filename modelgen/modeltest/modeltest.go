// Package modeltest gives tests a generated model directory: the tiny
// random-weight model, written in tens of milliseconds.
package modeltest

import (
	"testing"

	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
)

// Tiny writes the tiny model with the seed into a temporary directory that
// is removed when the test ends. towers picks the towers (default both).
func Tiny(t testing.TB, seed int64, towers ...modelgen.Towers) modelstore.Dir {
	t.Helper()
	opts := modelgen.Options{Out: t.TempDir(), Size: modelgen.Tiny, Seed: seed}
	for _, tw := range towers {
		opts.Towers |= tw
	}
	if err := modelgen.Generate(opts); err != nil {
		t.Fatalf("generate the tiny model: %v", err)
	}
	return modelstore.Dir{Root: opts.Out}
}
