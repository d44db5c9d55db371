// Package onnxsession opens ONNX Runtime sessions for mclip's towers: it
// checks a graph against the inputs and outputs a tower expects, applies the
// thread and execution-provider settings, and runs the graph.
package onnxsession

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// Options are the runtime settings of a session.
type Options struct {
	// IntraOpThreads is the number of threads one model call uses; 0 lets
	// ONNX Runtime choose (one per core).
	IntraOpThreads int
	// InterOpThreads is the number of threads for parallel graph branches;
	// 0 lets ONNX Runtime choose. ONNX Runtime uses them only in its
	// parallel execution mode; sessions here run in the default sequential
	// mode.
	InterOpThreads int
	// Provider is "cpu" (default) or "cuda".
	Provider string
	// ORTLib is the ONNX Runtime library path; empty uses ortlib's search.
	ORTLib string

	// OptimizedCacheDir, when not empty, is a directory where each graph is
	// saved once optimized (and fused with graphfuse's
	// SkipLayerNormalization) and reused from on later starts.
	OptimizedCacheDir string
	// Tuning departs from mclip's defaults, for measuring what each of them
	// buys (bench's settings table); the module, `mclip serve` and the CLI
	// leave it zero.
	Tuning Tuning
}

// Tuning holds the settings that only the benchmarks change. The zero value
// is mclip's behaviour (see bench/results for what each one buys).
type Tuning struct {
	// GraphOptimization is "all" (the default), "extended", "basic" or
	// "disabled".
	GraphOptimization string
	// DisableCPUArena turns ONNX Runtime's CPU memory arena off.
	DisableCPUArena bool
	// DisableMemPattern turns memory-pattern planning off.
	DisableMemPattern bool
	// SkipFusion saves optimized graphs as ONNX Runtime leaves them,
	// without graphfuse's SkipLayerNormalization.
	SkipFusion bool
	// KeepUint8Weights loads quantized graphs as they are, without flipping
	// their uint8 MatMulInteger weights to int8 on VNNI CPUs (see int8.go).
	KeepUint8Weights bool
	// SkipHeapTrim leaves the C heap as opening the graph left it (see
	// trim.go).
	SkipHeapTrim bool
	// Config adds or overrides session configuration entries (for example
	// "session.intra_op.allow_spinning"), after DefaultConfig.
	Config map[string]string
}

// DefaultConfig are the session configuration entries mclip sets on every
// session unless Options.Config overrides them.
//
// Intra-op threads spin between the nodes of a call but stop when the call
// ends (force_spinning_stop): waking sleeping threads for each of a call's
// few hundred nodes costs more than the nodes' own work on short texts,
// while threads that spin between calls (ONNX Runtime's default) take the
// cores from the other tower and from Weaviate. bench/'s settings table
// measures both against these defaults (docs/performance.md).
var DefaultConfig = map[string]string{
	"session.intra_op.allow_spinning": "1",
	"session.force_spinning_stop":     "1",
}

// Want describes one input or output a tower needs.
type Want struct {
	// Names are the accepted names; the first one present is used.
	Names []string
	// Type is the element type the tower feeds or reads.
	Type ort.TensorElementDataType
	// Rank is the number of dimensions.
	Rank int
	// Optional inputs may be absent from the graph.
	Optional bool
}

// Session is an open ONNX graph. It is safe for concurrent use.
type Session struct {
	path     string
	loaded   string   // the file ONNX Runtime loaded: path, or its optimized copy
	fused    int      // SkipLayerNormalization nodes made by graphfuse
	cacheErr error    // why the optimized-graph cache was not used, or rebuilt
	inputs   []string // resolved names, in Want order; "" for absent optional ones
	outputs  []string
	sess     *ort.DynamicAdvancedSession
	present  []bool
}

// Open loads the graph at path after checking it against inputs and outputs.
// A graph that does not fit is refused with a message naming the input or
// output that is wrong.
func Open(path string, opts Options, inputs, outputs []Want) (*Session, error) {
	if err := ortlib.Init(opts.ORTLib); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("onnx graph: %w", err)
	}
	c, err := checkContract(path, inputs, outputs)
	if err != nil {
		return nil, err
	}
	so, err := newSessionOptions(opts)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	open := func(load string) (*ort.DynamicAdvancedSession, error) {
		return newSession(load, path, opts, so, c.feed, c.outputs)
	}
	// The optimized-graph cache only speeds things up: a cache that cannot
	// be written (disk full, permissions) or whose entry does not load
	// (its weights file removed by hand) costs a rebuild, then the original
	// graph, never the tower.
	load, fused, cacheErr := optimizedGraph(path, opts, c.feedInfo, c.outputs)
	if cacheErr != nil {
		load, fused = path, 0
	}
	sess, err := open(load)
	if err != nil && load != path {
		cacheErr = fmt.Errorf("optimized graph %s does not load (rebuilt): %w", load, err)
		removeEntry(load)
		if load, fused, err = optimizedGraph(path, opts, c.feedInfo, c.outputs); err == nil {
			sess, err = open(load)
		}
		if err != nil {
			cacheErr = errors.Join(cacheErr, err)
			load, fused = path, 0
			sess, err = open(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open onnx graph %s: %w", path, err)
	}
	if !opts.Tuning.SkipHeapTrim {
		trimHeap()
	}
	return &Session{path: path, loaded: load, fused: fused, cacheErr: cacheErr, inputs: c.inputs, outputs: c.outputs, sess: sess, present: c.present}, nil
}

// CacheError returns why the optimized-graph cache was not used, or was
// rebuilt, when it was asked for; nil otherwise.
func (s *Session) CacheError() error { return s.cacheErr }

// Has reports whether the graph has the i-th wanted input.
func (s *Session) Has(i int) bool { return s.present[i] }

// Path returns the graph's file path.
func (s *Session) Path() string { return s.path }

// Loaded returns the file ONNX Runtime loaded: Path, or its optimized copy
// in Options.OptimizedCacheDir.
func (s *Session) Loaded() string { return s.loaded }

// Fused returns how many Add + LayerNormalization pairs of the graph run as
// one SkipLayerNormalization (see package graphfuse); 0 without an
// optimized-graph cache.
func (s *Session) Fused() int { return s.fused }

// Run feeds inputs (one per present wanted input, in Want order) and fills
// outputs (one per wanted output; nil entries are allocated by ONNX Runtime
// and must be destroyed by the caller).
func (s *Session) Run(inputs, outputs []ort.Value) error {
	if err := s.sess.Run(inputs, outputs); err != nil {
		return fmt.Errorf("run %s: %w", s.path, err)
	}
	return nil
}

// Close releases the session.
func (s *Session) Close() error {
	if s == nil || s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}

// match resolves each wanted input or output among the graph's, returning
// every mismatch found.
func match(kind string, wants []Want, got []ort.InputOutputInfo, exhaustive bool) ([]string, []bool, []error) {
	byName := make(map[string]ort.InputOutputInfo, len(got))
	for _, g := range got {
		byName[g.Name] = g
	}
	names := make([]string, len(wants))
	present := make([]bool, len(wants))
	used := map[string]bool{}
	var errs []error
	for i, w := range wants {
		for _, n := range w.Names {
			g, ok := byName[n]
			if !ok {
				continue
			}
			switch {
			case g.OrtValueType != ort.ONNXTypeTensor:
				errs = append(errs, fmt.Errorf("%s %q is a %s, want a tensor", kind, n, g.OrtValueType))
			case g.DataType != w.Type:
				errs = append(errs, fmt.Errorf("%s %q has element type %s, want %s", kind, n, g.DataType, w.Type))
			case len(g.Dimensions) != w.Rank:
				errs = append(errs, fmt.Errorf("%s %q has shape %s, want %d dimensions", kind, n, g.Dimensions, w.Rank))
			}
			names[i], present[i], used[n] = n, true, true
			break
		}
		if !present[i] && !w.Optional {
			errs = append(errs, fmt.Errorf("missing %s %s (graph has %s)", kind, strings.Join(quote(w.Names), " or "), listNames(got)))
		}
	}
	if exhaustive {
		for _, g := range got {
			if !used[g.Name] {
				errs = append(errs, fmt.Errorf("unexpected %s %q (%s %s): mclip cannot feed it", kind, g.Name, g.DataType, g.Dimensions))
			}
		}
	}
	return names, present, errs
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func listNames(got []ort.InputOutputInfo) string {
	if len(got) == 0 {
		return "none"
	}
	names := make([]string, len(got))
	for i, g := range got {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}

func newSessionOptions(opts Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	fail := func(what string, err error) (*ort.SessionOptions, error) {
		so.Destroy()
		return nil, fmt.Errorf("session options: %s: %w", what, err)
	}
	level, err := optimizationLevel(opts.Tuning.GraphOptimization)
	if err != nil {
		so.Destroy()
		return nil, err
	}
	if err := so.SetGraphOptimizationLevel(level); err != nil {
		return fail("graph optimisation level", err)
	}
	if opts.Tuning.DisableCPUArena {
		if err := so.SetCpuMemArena(false); err != nil {
			return fail("cpu memory arena", err)
		}
	}
	if opts.Tuning.DisableMemPattern {
		if err := so.SetMemPattern(false); err != nil {
			return fail("memory pattern", err)
		}
	}
	for _, kv := range configEntries(opts.Tuning.Config) {
		if err := so.AddSessionConfigEntry(kv[0], kv[1]); err != nil {
			return fail("config entry "+kv[0], err)
		}
	}
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return fail("intra-op threads", err)
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return fail("inter-op threads", err)
		}
	}
	switch strings.ToLower(opts.Provider) {
	case "", "cpu":
	case "cuda":
		cuda, err := ort.NewCUDAProviderOptions()
		if err != nil {
			so.Destroy()
			return nil, providerError(err)
		}
		defer cuda.Destroy()
		if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
			so.Destroy()
			return nil, providerError(err)
		}
	default:
		so.Destroy()
		return nil, fmt.Errorf("unknown execution provider %q: want cpu or cuda", opts.Provider)
	}
	return so, nil
}

func providerError(err error) error {
	return fmt.Errorf("execution provider cuda is not available in the ONNX Runtime at %s (the npm build mclip provisions is CPU-only; point %s at a GPU build of ONNX Runtime): %w",
		ortlib.Path(), config.EnvORTLib, err)
}

// optimizationLevel parses Options.GraphOptimization.
func optimizationLevel(name string) (ort.GraphOptimizationLevel, error) {
	switch strings.ToLower(name) {
	case "", "all":
		return ort.GraphOptimizationLevelEnableAll, nil
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended, nil
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic, nil
	case "disabled", "none":
		return ort.GraphOptimizationLevelDisableAll, nil
	default:
		return 0, fmt.Errorf("unknown graph optimisation level %q: want all, extended, basic or disabled", name)
	}
}

// configEntries merges DefaultConfig and overrides, sorted by key.
func configEntries(overrides map[string]string) [][2]string {
	merged := make(map[string]string, len(DefaultConfig)+len(overrides))
	for k, v := range DefaultConfig {
		merged[k] = v
	}
	for k, v := range overrides {
		merged[k] = v
	}
	out := make([][2]string, 0, len(merged))
	for k, v := range merged {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// contract is a graph's inputs and outputs resolved against the wanted
// ones.
type contract struct {
	inputs   []string // resolved names, in Want order; "" for absent optional ones
	present  []bool
	outputs  []string
	feed     []string              // the present inputs, in Want order
	feedInfo []ort.InputOutputInfo // their name, type and shape as ONNX Runtime lists them
}

// checkContract resolves the graph's inputs and outputs against the
// wanted ones. It reads the value infos in the file (onnxpb.ReadInterface)
// without its weights: ONNX Runtime's own listing loads the whole graph,
// weights included, which would make the contract check the peak of a
// tower's start, well above the file's size. ONNX Runtime's listing, which
// adds what its shape inference finds, has the last word: it is asked
// whenever the file's value infos do not parse or do not fit, so that a
// graph is never refused on the file's word alone, and its messages say
// what is wrong.
func checkContract(path string, inputs, outputs []Want) (contract, error) {
	if vin, vout, err := onnxpb.ReadInterface(path); err == nil {
		if c, err := resolveContract(path, inputs, outputs, ortInfos(vin), ortInfos(vout)); err == nil {
			return c, nil
		}
	}
	gotIn, gotOut, err := ortInputOutputInfo(path)
	if err != nil {
		return contract{}, fmt.Errorf("read onnx graph %s: %w", path, err)
	}
	return resolveContract(path, inputs, outputs, gotIn, gotOut)
}

// resolveContract matches the listed inputs and outputs against the wanted
// ones, returning every mismatch.
func resolveContract(path string, inputs, outputs []Want, gotIn, gotOut []ort.InputOutputInfo) (contract, error) {
	var c contract
	var inErrs, outErrs []error
	c.inputs, c.present, inErrs = match("input", inputs, gotIn, true)
	c.outputs, _, outErrs = match("output", outputs, gotOut, false)
	if errs := append(inErrs, outErrs...); len(errs) > 0 {
		return contract{}, fmt.Errorf("onnx graph %s does not fit the model contract: %w", path, errors.Join(errs...))
	}
	for i, n := range c.inputs {
		if c.present[i] {
			c.feed = append(c.feed, n)
			c.feedInfo = append(c.feedInfo, infoOf(gotIn, n))
		}
	}
	return c, nil
}

// ortInfos converts value infos into ONNX Runtime's form: a symbolic
// dimension is -1, one with neither a size nor a name 0 (as ONNX Runtime
// lists them).
func ortInfos(vis []onnxpb.ValueInfo) []ort.InputOutputInfo {
	out := make([]ort.InputOutputInfo, len(vis))
	for i, vi := range vis {
		info := ort.InputOutputInfo{Name: vi.Name, OrtValueType: ort.ONNXTypeTensor,
			DataType: ort.TensorElementDataType(vi.ElemType), Dimensions: ort.Shape{}}
		if vi.NotTensor {
			info.OrtValueType, info.DataType = ort.ONNXTypeUnknown, 0
		}
		for _, d := range vi.Shape {
			v := d.Value
			if d.Param != "" {
				v = -1
			}
			info.Dimensions = append(info.Dimensions, v)
		}
		out[i] = info
	}
	return out
}

// ortInputOutputInfo reads a graph's inputs and outputs through a
// throw-away ONNX Runtime session that neither optimises the graph nor
// prepacks its weights.
func ortInputOutputInfo(path string) (in, out []ort.InputOutputInfo, err error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	for _, set := range []func() error{
		func() error { return so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll) },
		func() error { return so.SetIntraOpNumThreads(1) },
		func() error { return so.SetCpuMemArena(false) },
		func() error { return so.AddSessionConfigEntry("session.disable_prepacking", "1") },
	} {
		if err := set(); err != nil {
			return nil, nil, fmt.Errorf("session options: %w", err)
		}
	}
	return ort.GetInputOutputInfoWithOptions(path, so)
}

// flipWanted reports whether Open flips quantized weights to int8.
func flipWanted(opts Options) bool {
	return !opts.Tuning.KeepUint8Weights && signedWeightsWanted() && (opts.Provider == "" || strings.EqualFold(opts.Provider, "cpu"))
}

// newSession opens load (path itself, or its optimized copy) with so; a
// graph whose quantized weights are flipped (see flipped) is handed to ONNX
// Runtime from memory.
func newSession(load, path string, opts Options, so *ort.SessionOptions, inputs, outputs []string) (*ort.DynamicAdvancedSession, error) {
	if data, release := flipped(load, path, opts); data != nil {
		defer release()
		return ort.NewDynamicAdvancedSessionWithONNXData(data, inputs, outputs, so)
	}
	return ort.NewDynamicAdvancedSession(load, inputs, outputs, so)
}

// flipped returns the graph's bytes with its uint8 MatMulInteger weights
// flipped to int8, and the function that frees them, when that is wanted
// and there are any; else nil. A graph loaded from the optimized cache was
// flipped before it was saved.
func flipped(load, path string, opts Options) ([]byte, func()) {
	if load != path || !flipWanted(opts) {
		return nil, nil
	}
	data, _, release, err := readSignedWeights(path)
	if err != nil || data == nil {
		return nil, nil // ONNX Runtime reads the file itself and reports what is wrong with it
	}
	return data, release
}

// OpenModel opens a graph mclip builds itself (such as the text tower's
// Dense layer) from its bytes, with opts' runtime settings; name stands for
// its path in errors. Such graphs are neither cached nor checked against a
// contract.
func OpenModel(name string, model []byte, opts Options, inputs, outputs []string) (*Session, error) {
	if err := ortlib.Init(opts.ORTLib); err != nil {
		return nil, err
	}
	opts.OptimizedCacheDir = ""
	so, err := newSessionOptions(opts)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, so)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	present := make([]bool, len(inputs))
	for i := range present {
		present[i] = true
	}
	return &Session{path: name, loaded: name, inputs: inputs, outputs: outputs, sess: sess, present: present}, nil
}
