// Command mclip-bench runs mclip's benchmark suite (see package bench) and
// writes bench/results. `make bench` runs it; BENCH_QUICK=1 makes it a
// smoke run on tiny models.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/bench"
)

func main() {
	bench.MaybeChild()
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "smoke run: tiny models, one repetition (also BENCH_QUICK=1)")
	root := flag.String("root", ".", "the mclip checkout")
	models := flag.String("models", "", "generated model cache (default ROOT/.cache/bench-models, or bench-models-tiny when quick)")
	out := flag.String("out", "", "results directory (default ROOT/bench/results, or a temporary one when quick)")
	threads := flag.Int("threads", 0, "intra-op threads per session (default one per CPU)")
	reps := flag.Int("reps", 0, "repetitions of each measurement (default 5, 1 when quick)")
	only := flag.String("only", "", "comma-separated sections to run (ceiling,text,image,photos,variants,memory,cold,settings,serve,weaviate); default all")
	importObjects := flag.Int("import-objects", 0, "objects per stack and photo size in the Weaviate import section (default 2000)")
	redraw := flag.String("redraw", "", "draw the charts and README.md of an existing results directory again from its results.json, measuring nothing")
	flag.Parse()
	if *redraw != "" {
		if err := bench.Redraw(*redraw); err != nil {
			fmt.Fprintln(os.Stderr, "mclip-bench:", err)
			os.Exit(1)
		}
		return
	}
	var sections []string
	if *only != "" {
		sections = strings.Split(*only, ",")
	}
	if err := run(bench.Config{Quick: *quick, RepoRoot: *root, ModelDir: *models, OutDir: *out, Threads: *threads, Reps: *reps, Only: sections, ImportObjects: *importObjects}); err != nil {
		fmt.Fprintln(os.Stderr, "mclip-bench:", err)
		os.Exit(1)
	}
}

func run(cfg bench.Config) error {
	quick, models, out := cfg.Quick, cfg.ModelDir, cfg.OutDir
	abs, err := filepath.Abs(cfg.RepoRoot)
	if err != nil {
		return err
	}
	if models == "" {
		models = filepath.Join(abs, ".cache", "bench-models")
		if quick {
			models += "-tiny"
		}
	}
	if out == "" {
		out = filepath.Join(abs, "bench", "results")
		if quick {
			if out, err = os.MkdirTemp("", "mclip-bench-quick-"); err != nil {
				return err
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// How the run was started: make bench's own command line when it
	// passed nothing beyond -root, else the bench binary's.
	cmd := "bin/mclip-bench " + strings.Join(os.Args[1:], " ")
	if len(os.Args) == 3 && os.Args[1] == "-root" {
		cmd = "make bench"
		if quick {
			cmd = "BENCH_QUICK=1 make bench"
		}
	}
	cfg.ModelDir, cfg.OutDir, cfg.RepoRoot, cfg.Command, cfg.Log = models, out, abs, cmd, os.Stderr
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("results in %s (%s)\n", out, res.Duration)
	return nil
}
