// Command gen writes the tiny CLIP checkpoints that reference.py computes
// goldens from, with the seed TestCLIPGraphsMatchPyTorch uses: one
// directory per architecture in transformers' layout, and for the open_clip
// tags' architectures one more, ARCH-open_clip, in open_clip's.
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
	for _, arch := range OpenCLIPArchs {
		if _, err := modelgen.WriteOpenCLIPCheckpoint(filepath.Join(os.Args[1], string(arch)+"-open_clip"), arch, modelgen.Tiny, Seed); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// OpenCLIPArchs are the architectures of the open_clip tags
// (ViT-B-32-quickgelu, ViT-B-16).
var OpenCLIPArchs = []modelgen.CLIPArch{modelgen.CLIPB32QuickGELU, modelgen.CLIPB16GELU}
