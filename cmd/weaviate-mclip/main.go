// Command weaviate-mclip prepares the build of a Weaviate server with the
// multi2vec-mclip module compiled in.
//
// Weaviate has no plugin hook, so the module is registered by source: the
// weaviate module is copied from the Go module cache into OUT/weaviate, its
// registerModules is renamed to registerUpstreamModules, and one generated
// file in package rest defines a registerModules that calls the upstream
// function and then module.Register: multi2vec-mclip when ENABLE_MODULES
// names it, and, under MCLIP_REPLACE_MULTI2VEC_CLIP=true, mclip's
// multi2vec-clip in place of Weaviate's.
// OUT/go.mod is this repository's go.mod plus a replace of
// github.com/weaviate/weaviate by that copy, for
//
//	go build -modfile=OUT/go.mod github.com/weaviate/weaviate/cmd/weaviate-server
//
// from the repository root (see `make weaviate`). Runs are idempotent and
// touch nothing when nothing changed, so the Go build cache stays warm.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	root := flag.String("root", ".", "the mclip repository root (holding go.mod)")
	out := flag.String("out", "_build", "build directory, relative to -root unless absolute")
	flag.Parse()
	g := generator{root: *root, out: *out, download: func(version string) (string, error) {
		return goModDownload(goCommand(), *root, version)
	}}
	changed, err := g.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weaviate-mclip:", err)
		os.Exit(1)
	}
	for _, c := range changed {
		fmt.Println("weaviate-mclip: wrote", c)
	}
}

func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}
