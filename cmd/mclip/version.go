package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mclip-go/mclip/vectorizer/ortlib"
	"github.com/mclip-go/mclip/version"
)

func init() {
	register("version", "print the mclip version, commit and ONNX Runtime version (also: mclip --version)",
		"mclip version\nmclip --version", runVersion)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	printVersion(stdout)
	return nil
}

// printVersion writes the version lines; an ONNX Runtime that cannot be found
// or loaded is reported on its line, not as a failure.
func printVersion(w io.Writer) {
	v := version.Get()
	fmt.Fprintf(w, "mclip %s\ncommit %s\n%s\n", v.Version, v.Commit, v.GoVersion)
	path, ortVersion, err := ortlib.Probe()
	if err != nil {
		fmt.Fprintf(w, "onnxruntime: not loaded: %v\n", err)
		return
	}
	fmt.Fprintf(w, "onnxruntime %s (%s)\n", ortVersion, path)
}
