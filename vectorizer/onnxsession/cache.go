package onnxsession

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/filelock"
	"github.com/mclip-go/mclip/vectorizer/graphfuse"
)

// fuseVersion changes whenever graphfuse rewrites graphs differently, so
// that cached graphs are rebuilt.
const fuseVersion = 3

// optimizedGraph returns the graph file to load: path itself without
// opts.OptimizedCacheDir; else its optimized copy there, built on first
// use. Building one saves ONNX Runtime's optimized graph (its weights in a
// file of their own, which ONNX Runtime maps instead of copying, so that
// untouched weights such as most of the text tower's embedding table never
// become resident), then, unless opts.Tuning.SkipFusion, fuses it with graphfuse
// and keeps the fused graph only if it gives the optimized graph's outputs
// on a probe input. fused is the number of fusions in the returned graph.
func optimizedGraph(path string, opts Options, feed []ort.InputOutputInfo, outputs []string) (load string, fused int, err error) {
	if opts.OptimizedCacheDir == "" {
		return path, 0, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, fmt.Errorf("onnx graph: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, fmt.Errorf("onnx graph: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%s\x00%s\x00%t\x00%t\x00%d", abs, st.Size(), st.ModTime().UnixNano(),
		ort.GetVersion(), strings.ToLower(opts.Tuning.GraphOptimization), strings.ToLower(opts.Provider), flipWanted(opts),
		opts.Tuning.SkipFusion, fuseVersion)
	base := strings.TrimSuffix(filepath.Base(path), ".onnx")
	name := base + "-" + hex.EncodeToString(h.Sum(nil)[:8])
	cached := filepath.Join(opts.OptimizedCacheDir, name+".opt.onnx")
	if b, err := os.ReadFile(cached); err == nil {
		return cached, graphfuse.Count(b), nil
	}
	if err := os.MkdirAll(opts.OptimizedCacheDir, 0o755); err != nil {
		return "", 0, fmt.Errorf("optimized graph cache: %w", err)
	}
	fail := func(err error) (string, int, error) {
		return "", 0, fmt.Errorf("optimized graph cache: %w", err)
	}
	// One process builds an entry; others starting at the same time (the
	// nodes of a cluster sharing a model directory) wait for it and load it.
	unlock, err := filelock.Lock(context.Background(), cached+".lock")
	if err != nil {
		return fail(err)
	}
	defer unlock()
	if b, err := os.ReadFile(cached); err == nil {
		return cached, graphfuse.Count(b), nil
	}
	pid := os.Getpid()
	tmp := fmt.Sprintf("%s.%d.tmp", cached, pid)
	weights := fmt.Sprintf("%s.%d.weights", name, pid)
	if err := saveOptimized(path, tmp, weights, opts); err != nil {
		os.Remove(tmp)
		os.Remove(filepath.Join(opts.OptimizedCacheDir, weights))
		return fail(err)
	}
	keep := tmp
	if !opts.Tuning.SkipFusion {
		if f, n, err := fuse(tmp, opts, feed, outputs); err == nil && n > 0 {
			keep, fused = f, n
			os.Remove(tmp)
		}
		// A graph graphfuse cannot fuse, or whose fusion changes the
		// results, is cached as ONNX Runtime optimized it.
	}
	if err := os.Rename(keep, cached); err != nil {
		os.Remove(keep)
		return fail(err)
	}
	src := source{Path: abs, Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	if b, err := json.Marshal(src); err == nil {
		_ = os.WriteFile(cached+".source", b, 0o644)
	}
	pruneStale(opts.OptimizedCacheDir, src)
	return cached, fused, nil
}

// source identifies the graph file a cache entry was built from; it is
// written beside the entry as NAME.opt.onnx.source.
type source struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"modTime"`
}

// pruneStale removes the entries built from an earlier version of cur's
// file (a model updated in place) or from a file that is gone, so that the
// cache does not keep a model-sized entry per update. Entries of the
// current file with other settings stay.
func pruneStale(dir string, cur source) {
	sidecars, err := filepath.Glob(filepath.Join(dir, "*.opt.onnx.source"))
	if err != nil {
		return
	}
	for _, sc := range sidecars {
		b, err := os.ReadFile(sc)
		if err != nil {
			continue
		}
		var s source
		if json.Unmarshal(b, &s) != nil || s.Path == "" {
			continue
		}
		_, statErr := os.Stat(s.Path)
		stale := errors.Is(statErr, fs.ErrNotExist) || (s.Path == cur.Path && (s.Size != cur.Size || s.ModTime != cur.ModTime))
		if stale {
			graph := strings.TrimSuffix(sc, ".source")
			removeEntry(graph)
			os.Remove(sc)
			os.Remove(graph + ".lock")
		}
	}
}

// removeEntry deletes a cache entry: the graph and the weights file beside
// it that it names (entries are "NAME.opt.onnx" with "NAME.PID.weights").
func removeEntry(graph string) {
	name := strings.TrimSuffix(filepath.Base(graph), ".opt.onnx")
	if matches, err := filepath.Glob(filepath.Join(filepath.Dir(graph), name+".*.weights")); err == nil {
		for _, m := range matches {
			os.Remove(m)
		}
	}
	os.Remove(graph)
}

// saveOptimized opens path in a throw-away session that saves the optimized
// graph to out and its weights to weights (a name beside out).
func saveOptimized(path, out, weights string, opts Options) error {
	so, err := newSessionOptions(opts)
	if err != nil {
		return err
	}
	defer so.Destroy()
	for _, set := range []func() error{
		func() error {
			return so.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", weights)
		},
		// Prepacked weights are not saved; packing them would only cost
		// time and memory here.
		func() error { return so.AddSessionConfigEntry("session.disable_prepacking", "1") },
		func() error { return so.SetOptimizedModelFilePath(out) },
	} {
		if err := set(); err != nil {
			return fmt.Errorf("session options: %w", err)
		}
	}
	sess, err := newSession(path, path, opts, so, nil, nil)
	if err != nil {
		return fmt.Errorf("optimize %s: %w", path, err)
	}
	return sess.Destroy()
}

// fuse writes graphfuse's fusion of the optimized graph at path beside it
// and checks it against path on a probe input; it returns the fused file
// and the number of fusions, or an error when the fusion is not kept.
func fuse(path string, opts Options, feed []ort.InputOutputInfo, outputs []string) (string, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	fused, n, err := graphfuse.SkipLayerNorm(b)
	if err != nil || n == 0 {
		return "", 0, err
	}
	out := path + ".fused"
	if err := os.WriteFile(out, fused, 0o644); err != nil {
		return "", 0, err
	}
	want, err := probe(path, opts, feed, outputs)
	if err == nil {
		var got [][]float32
		got, err = probe(out, opts, feed, outputs)
		if err == nil {
			err = same(want, got)
		}
	}
	if err != nil {
		os.Remove(out)
		return "", 0, fmt.Errorf("fused graph: %w", err)
	}
	return out, n, nil
}

// probe runs the graph at path once on deterministic inputs: dynamic
// dimensions 2 (the first) and 3 (the others), so that batch and sequence
// differ; int64 inputs 1, 1, 0, ... (valid token ids, and masks with
// padding); float inputs a sine. It returns each float output's values.
func probe(path string, opts Options, feed []ort.InputOutputInfo, outputs []string) ([][]float32, error) {
	so, err := newSessionOptions(Options{IntraOpThreads: 1, Tuning: Tuning{GraphOptimization: opts.Tuning.GraphOptimization}, ORTLib: opts.ORTLib})
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if err := so.AddSessionConfigEntry("session.disable_prepacking", "1"); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	// A fusion the probe refuses is expected, and reported by the caller.
	if err := so.SetLogSeverityLevel(ort.LoggingLevelFatal); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	names := make([]string, len(feed))
	inputs := make([]ort.Value, len(feed))
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, in := range feed {
		names[i] = in.Name
		dims := make([]int64, len(in.Dimensions))
		for d, v := range in.Dimensions {
			switch {
			case v > 0:
				dims[d] = v
			case d == 0:
				dims[d] = 2
			default:
				dims[d] = 3
			}
		}
		shape := ort.NewShape(dims...)
		switch in.DataType {
		case ort.TensorElementDataTypeInt64:
			data := make([]int64, shape.FlattenedSize())
			for k := range data {
				data[k] = int64(min(1, 2-k%3))
			}
			inputs[i], err = ort.NewTensor(shape, data)
		case ort.TensorElementDataTypeFloat:
			data := make([]float32, shape.FlattenedSize())
			for k := range data {
				data[k] = float32(math.Sin(float64(k) * 0.37))
			}
			inputs[i], err = ort.NewTensor(shape, data)
		default:
			return nil, fmt.Errorf("no probe for input %q of type %s", in.Name, in.DataType)
		}
		if err != nil {
			return nil, fmt.Errorf("probe input %q: %w", in.Name, err)
		}
	}
	sess, err := ort.NewDynamicAdvancedSession(path, names, outputs, so)
	if err != nil {
		return nil, err
	}
	defer sess.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := sess.Run(inputs, outs); err != nil {
		return nil, err
	}
	var vals [][]float32
	for _, o := range outs {
		if f, ok := o.(*ort.Tensor[float32]); ok {
			vals = append(vals, append([]float32(nil), f.GetData()...))
		}
		o.Destroy()
	}
	return vals, nil
}

// same reports whether got matches want to float32 rounding of a changed
// order of operations.
func same(want, got [][]float32) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		if len(want[i]) != len(got[i]) {
			return fmt.Errorf("output %d has %d values, want %d", i, len(got[i]), len(want[i]))
		}
		for k, w := range want[i] {
			g := got[i][k]
			if math.IsNaN(float64(g)) != math.IsNaN(float64(w)) || math.Abs(float64(g-w)) > 1e-4*(1+math.Abs(float64(w))) {
				return fmt.Errorf("output %d value %d is %g, want %g", i, k, g, w)
			}
		}
	}
	return nil
}

// infoOf returns the named entry of infos.
func infoOf(infos []ort.InputOutputInfo, name string) ort.InputOutputInfo {
	for _, in := range infos {
		if in.Name == name {
			return in
		}
	}
	return ort.InputOutputInfo{Name: name}
}
