package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// Config configures one run of the suite.
type Config struct {
	// Quick runs on tiny models with one repetition and small inputs: a
	// smoke run that checks the suite works, not a measurement.
	Quick bool
	// ModelDir holds the generated models; they are generated there when
	// absent and reused otherwise.
	ModelDir string
	// OutDir receives README.md, results.json and the charts.
	OutDir string
	// RepoRoot is the mclip checkout (for bin/ and bench/pillow_prep.py).
	RepoRoot string
	// Threads is the intra-op thread count of every session (default: one
	// per CPU).
	Threads int
	// Reps is the number of repetitions of each measurement (default 5, 1
	// when Quick).
	Reps int
	// Command is how the run was started, for the README.
	Command string
	// Python is the interpreter with PIL for the Pillow comparison
	// (default /usr/bin/python3); "none" skips it.
	Python string
	// ImportObjects is the number of objects the Weaviate import section
	// imports per stack and load (default 2000).
	ImportObjects int
	// Only, when not empty, runs just these sections (ceiling, text,
	// image, photos, variants, memory, cold, settings, serve, weaviate).
	Only []string
	// PhotoDir holds the real-photo corpus of bench/photos/build.sh
	// (default RepoRoot/.cache/photos); the photos section is skipped
	// without it.
	PhotoDir string
	// Log receives progress lines (default: discarded).
	Log io.Writer
}

// runner carries one run's state.
type runner struct {
	cfg     Config
	ctx     context.Context
	size    modelgen.Size
	dir     modelstore.Dir
	sess    onnxsession.Options
	work    string // scratch directory
	minTime time.Duration
	res     *Results
}

// Run runs the suite and writes the results into cfg.OutDir.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	if cfg.Reps <= 0 {
		cfg.Reps = 5
		if cfg.Quick {
			cfg.Reps = 1
		}
	}
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
	}
	if cfg.ModelDir == "" || cfg.OutDir == "" {
		return nil, fmt.Errorf("bench: ModelDir and OutDir are required")
	}
	r := &runner{cfg: cfg, ctx: ctx, size: modelgen.Full, minTime: 400 * time.Millisecond,
		sess: onnxsession.Options{IntraOpThreads: cfg.Threads}}
	if cfg.Quick {
		r.size, r.minTime = modelgen.Tiny, 0
	}
	start := time.Now()
	if err := ortlib.Init(""); err != nil {
		return nil, err
	}
	if err := r.ensureModels(); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "mclip-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: scratch directory: %w", err)
	}
	defer os.RemoveAll(work)
	r.work = work
	// As mclip runs by default: graphs optimized and fused once into a
	// cache (in the model directory; here a fresh one, so that the first
	// start of each tower is measured too).
	r.sess.OptimizedCacheDir = filepath.Join(work, "optimized")
	r.res = &Results{Machine: describeMachine(), Command: cfg.Command, Quick: cfg.Quick, Threads: cfg.Threads,
		Reps: cfg.Reps, ModelSize: string(r.size)}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"ceiling", r.ceilingSection},
		{"text", r.textSection},
		{"image", r.imageSection},
		{"photos", r.photosSection},
		{"variants", r.variantSection},
		{"memory", r.memorySection},
		{"cold", r.coldStartSection},
		{"settings", r.settingsSection},
		{"serve", r.serveSection},
		{"weaviate", r.weaviateSection},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, s.name) {
			continue
		}
		t := time.Now()
		r.logf("== %s", s.name)
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("bench %s: %w", s.name, err)
		}
		r.logf("== %s done in %s", s.name, time.Since(t).Round(time.Millisecond))
		r.res.Duration = time.Since(start).Round(time.Second).String() + " (so far)"
		if err := r.res.write(cfg.OutDir); err != nil { // partial results survive a later failure
			return nil, err
		}
	}
	r.res.Duration = time.Since(start).Round(time.Second).String()
	if err := r.res.write(cfg.OutDir); err != nil {
		return nil, err
	}
	return r.res, nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// ensureModels generates the models into ModelDir unless a complete set
// (every variant) of the current modelgen.GraphVersion is already there.
func (r *runner) ensureModels() error {
	r.dir = modelstore.Dir{Root: r.cfg.ModelDir}
	marker := filepath.Join(r.cfg.ModelDir, ".bench-complete")
	want := fmt.Sprintf("%s graphs v%d", r.size, modelgen.GraphVersion)
	if b, err := os.ReadFile(marker); err == nil && string(b) == want {
		return nil
	}
	r.logf("generating %s models into %s", r.size, r.cfg.ModelDir)
	t := time.Now()
	if err := modelgen.Generate(modelgen.Options{Out: r.cfg.ModelDir, Size: r.size, Seed: 1, Int8: true, FP16: true}); err != nil {
		return fmt.Errorf("generate models: %w", err)
	}
	r.logf("generated in %s", time.Since(t).Round(time.Millisecond))
	if err := os.WriteFile(marker, []byte(want), 0o644); err != nil {
		return fmt.Errorf("generate models: %w", err)
	}
	return nil
}

// ceilingSection measures the fp32 and int8 MatMul ceilings on their own.
func (r *runner) ceilingSection() error {
	kinds := []string{kindFP32, kindU8U8, kindU8S8}
	mms := make([]*matmul, len(kinds))
	for i, kind := range kinds {
		mm, err := openMatMul(r.work, kind, r.sess)
		if err != nil {
			return err
		}
		defer mm.Close()
		mms[i] = mm
	}
	runs := make([][]float64, len(kinds))
	for range r.cfg.Reps {
		for i, mm := range mms {
			g, err := mm.gflops(r.minTime)
			if err != nil {
				return err
			}
			runs[i] = append(runs[i], g)
		}
	}
	for i, kind := range kinds {
		row := Row{Metric: "fp32 MatMul [256x768]x[768x3072]", Value: median(runs[i]), Unit: "GFLOPS", Runs: len(runs[i]),
			Note: fmt.Sprintf("%d intra-op threads; spread %.0f..%.0f", r.cfg.Threads, quantile(runs[i], 0), quantile(runs[i], 1))}
		switch kind {
		case kindFP32:
			r.res.CeilingFP32 = median(runs[i])
		case kindU8U8:
			row.Metric, row.Unit = "int8 MatMulInteger, uint8 x uint8 weights (as the int8 graphs)", "GOPS"
			row.Ratio, row.Ref = median(ratios(runs[i], runs[0])), "fp32 GFLOPS"
			r.res.CeilingInt8 = median(runs[i])
		case kindU8S8:
			row.Metric, row.Unit = "int8 MatMulInteger, uint8 x int8 weights (VNNI's native form)", "GOPS"
			row.Ratio, row.Ref = median(ratios(runs[i], runs[0])), "fp32 GFLOPS"
		}
		r.res.add("Ceiling", row)
	}
	tp, vp := modelgen.TextParamsFor(r.size), modelgen.VisionParamsFor(r.size)
	r.res.add("Ceiling", Row{Metric: "vision tower work per image", Value: visionFLOPs(vp) / 1e9, Unit: "GFLOP",
		Note: "2 FLOP per multiply-add (ViT-B/32's often quoted 4.4 are G multiply-adds)"})
	r.res.add("Ceiling", Row{Metric: "text tower work per token (linear layers)", Value: textFLOPs(tp, 1) / 1e6, Unit: "MFLOP",
		Note: "attention adds 4·seq·768 per layer and token; counted per length below"})
	r.res.add("Ceiling", Row{Metric: "fp32 ceiling in images/s", Value: r.res.CeilingFP32 * 1e9 / visionFLOPs(vp), Unit: "images/s"})
	return nil
}
