package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelgen"
)

func init() {
	register("models gen", "write a model directory with random weights (tiny for tests, or full size)",
		"mclip models gen --size tiny --out /tmp/mclip-tiny\nmclip models gen --size full --int8 --out /tmp/mclip-full", runModelsGen)
}

func runModelsGen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("models gen", stderr)
	model := fs.String("model", catalog.Default, "the model whose layout to write, by image tag (see: mclip models list)")
	size := fs.String("size", "tiny", "model dimensions: tiny or full (the real model's)")
	seed := fs.Int64("seed", 1, "seed of the random weights")
	out := fs.String("out", "", "model directory to write (required)")
	towers := fs.String("towers", "text,vision", "towers to write: text, vision or text,vision")
	int8 := fs.Bool("int8", false, "also write the dynamically quantized int8 graphs")
	fp16 := fs.Bool("fp16", false, "also write float16 graphs (float32 inputs and outputs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *out == "" {
		return usageError{errors.New("--out is required")}
	}
	// The generator writes the layouts of the models this build runs.
	if _, err := catalog.Runnable(*model); err != nil {
		return usageError{fmt.Errorf("--model: %w", err)}
	}
	sz, err := modelgen.ParseSize(*size)
	if err != nil {
		return usageError{err}
	}
	tw, err := modelgen.ParseTowers(*towers)
	if err != nil {
		return usageError{err}
	}
	start := time.Now()
	files, err := modelgen.Write(modelgen.Options{Model: *model, Out: *out, Size: sz, Seed: *seed, Towers: tw, Int8: *int8, FP16: *fp16})
	for _, f := range files {
		fmt.Fprintf(stdout, "%12d  %s\n", f.Size, f.Path)
	}
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	fmt.Fprintf(stdout, "wrote %d files, %d bytes, %s model (seed %d) to %s in %s\n",
		len(files), total, sz, *seed, *out, time.Since(start).Round(time.Millisecond))
	return nil
}
