// Command gen writes the tiny CLIP checkpoints that reference.py computes
// goldens from: one directory per architecture under the directory named
// on the command line, with the seed TestCLIPGraphsMatchPyTorch uses.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mclip-go/mclip/modelgen"
)

// Seed is the seed of the reference checkpoints (goldens.json's "seed").
const Seed = 7

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen OUTDIR")
		os.Exit(2)
	}
	for _, arch := range modelgen.CLIPArchs {
		if _, err := modelgen.WriteCLIPCheckpoint(filepath.Join(os.Args[1], string(arch)), arch, modelgen.Tiny, Seed, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
