package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// Row is one figure: the median of Runs runs, and the median of the
// per-run ratios to Ref when Ref is set.
type Row struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Ratio  float64 `json:"ratio,omitempty"`
	Ref    string  `json:"ref,omitempty"`
	Target string  `json:"target,omitempty"`
	Pass   string  `json:"pass,omitempty"` // "yes", "no" or "" (no target)
	Runs   int     `json:"runs,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Section is a titled table of rows.
type Section struct {
	Title string `json:"title"`
	Rows  []Row  `json:"rows"`
}

// Results is everything one run measured.
type Results struct {
	Machine     Machine   `json:"machine"`
	Command     string    `json:"command"`
	Quick       bool      `json:"quick"`
	Threads     int       `json:"threads"`
	Reps        int       `json:"reps"`
	ModelSize   string    `json:"modelSize"`
	Duration    string    `json:"duration"`
	CeilingFP32 float64   `json:"ceilingFP32GFLOPS"`
	CeilingInt8 float64   `json:"ceilingInt8GOPS"`
	Sections    []Section `json:"sections"`
	Charts      []Chart   `json:"charts"`
	Settings    []Setting `json:"settings"`
}

// Setting is what one ONNX Runtime setting did, relative to mclip's
// defaults measured in the same runs.
type Setting struct {
	Name        string  `json:"name"`
	Image       float64 `json:"imageRatio"`   // images/s, batch 32
	Text        float64 `json:"textRatio"`    // sentences/s, batch 32 short
	Latency     float64 `json:"latencyRatio"` // single short query p50 (lower is better)
	LoadSeconds float64 `json:"loadSeconds"`  // both towers
	Verdict     string  `json:"verdict"`
}

func (r *Results) add(section string, row Row) {
	if row.Target != "" && row.Pass == "" {
		row.Pass = "no"
	}
	for i := range r.Sections {
		if r.Sections[i].Title == section {
			r.Sections[i].Rows = append(r.Sections[i].Rows, row)
			return
		}
	}
	r.Sections = append(r.Sections, Section{Title: section, Rows: []Row{row}})
}

// atLeast returns the pass mark of value >= min.
func atLeast(value, min float64) string {
	if value >= min {
		return "yes"
	}
	return "no"
}

// atMost returns the pass mark of value <= max.
func atMost(value, max float64) string {
	if value <= max {
		return "yes"
	}
	return "no"
}

// write puts README.md, results.json and the charts into dir.
func (r *Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	for i := range r.Charts {
		if err := r.Charts[i].render(dir); err != nil {
			return fmt.Errorf("results: chart %s: %w", r.Charts[i].File, err)
		}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

func (r *Results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# mclip benchmark results\n\n")
	if r.Quick {
		p("**Quick smoke run (BENCH_QUICK=1): tiny models, one repetition. These numbers measure nothing; run `make bench` for real ones.**\n\n")
	}
	p("Written by `bench/` (`make bench`). Every figure is the median of %d runs; a ratio is the median of the per-run ratios to the reference named beside it, measured in the same run, interleaved with the figure, so that load from other processes on this shared machine cancels out as far as it can. Models: %s-size generated models (random weights, the real architectures). Threads: %d intra-op threads per session.\n\n",
		r.Reps, r.ModelSize, r.Threads)
	p("## Command\n\n```sh\n%s\n```\n\n", r.Command)
	m := r.Machine
	p("## Machine\n\n| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %d |\n| SIMD | %s |\n| memory | %s |\n| kernel | %s |\n| Go | %s |\n| ONNX Runtime | %s (%s) |\n| commit | %s |\n| date | %s |\n| load average at start | %s |\n| run time | %s |\n\n",
		m.CPU, m.Cores, m.Flags, m.MemTotal, m.Kernel, m.GoVersion, m.ORT, m.ORTLib, m.Commit, m.Date, m.LoadAvg, r.Duration)
	p("## Targets\n\n| target | measured | wanted | met |\n|---|---:|---|---|\n")
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			if row.Target == "" {
				continue
			}
			got := row.Ratio
			if row.Ref == "" {
				got = row.Value
			}
			p("| %s: %s | %.3f | %s | %s |\n", s.Title, row.Metric, got, row.Target, row.Pass)
		}
	}
	p("\n")
	for _, s := range r.Sections {
		p("## %s\n\n", s.Title)
		p("| metric | value | ratio | reference | target | met | runs | note |\n|---|---:|---:|---|---|---|---:|---|\n")
		for _, row := range s.Rows {
			ratio := ""
			if row.Ref != "" {
				ratio = fmt.Sprintf("%.3f", row.Ratio)
			}
			runs := ""
			if row.Runs > 0 {
				runs = fmt.Sprint(row.Runs)
			}
			value := "n/a"
			if row.Unit != "" {
				value = fmt.Sprintf("%s %s", format(row.Value), row.Unit)
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.Metric, value, ratio, row.Ref, row.Target, row.Pass, runs, row.Note)
		}
		p("\n")
	}
	p("## What mclip sets, and where\n\n")
	p("- `vectorizer/onnxsession`: graph optimisation level all; one intra-op thread per core (`MCLIP_THREADS`); session config entries %s; `malloc_trim(0)` after each graph is opened (glibc keeps the freed protobuf parse in its arenas otherwise; see the row *no malloc_trim* below); the contract (input and output names, types and ranks) is read from the graph file's value infos without its weights (`onnxpb.ReadInterface`), ONNX Runtime's own listing only where those do not parse or fit.\n", describeConfig())
	p("- int8: on CPUs with VNNI, the uint8 MatMulInteger weights of the quantized graphs are flipped to int8 (q-128, zero point z-128: the same numbers) in a private mapping before ONNX Runtime sees them, because ONNX Runtime has no VNNI kernel for uint8 x uint8 (see the ceiling rows and the *weights flipped* rows). `onnxsession.Tuning.KeepUint8Weights` turns it off.\n")
	p("- Optimized-graph cache (`MCLIP_OPTIMIZED_CACHE_DIR`, by default `optimized/` in the model directory; `onnxsession.Options.OptimizedCacheDir`): on first use each graph is optimised once and saved with its weights in a file of their own, which ONNX Runtime maps instead of copying; later starts load that. Before it is saved, `vectorizer/graphfuse` turns each residual Add + LayerNormalization into one SkipLayerNormalization (ONNX Runtime's own fusion needs a fixed sequence length), and the fused graph is kept only if it gives the unfused graph's outputs on a probe input (see the *no optimized-graph cache* and *without the SkipLayerNormalization fusion* rows).\n")
	p("- `vectorizer/text`: input, mask and output buffers are reused across model calls; the Dense layer runs as one ONNX Runtime matrix product per call; texts are sorted by length and cut into model calls where padding would cost more than another call (`text.CallOverheadTokens`).\n\n")
	if len(r.Settings) > 0 {
		p("## What each ONNX Runtime setting buys\n\n")
		p("Each setting was applied alone on top of mclip's defaults (`vectorizer/onnxsession`), and measured interleaved with the defaults. Ratios above 1 are faster for throughput; for latency, below 1 is faster.\n\n")
		p("| setting | images/s (batch 32) | sentences/s (batch 32, short) | p50 latency (1 short query) | load both towers | verdict |\n|---|---:|---:|---:|---:|---|\n")
		for _, s := range r.Settings {
			p("| %s | %.3f | %.3f | %.3f | %.2f s | %s |\n", s.Name, s.Image, s.Text, s.Latency, s.LoadSeconds, s.Verdict)
		}
		p("\n")
	}
	for _, c := range r.Charts {
		p("![%s](%s)\n\n", c.Title, c.File)
	}
	return b.String()
}

// format prints a value with a sensible number of digits.
func format(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// describeConfig lists onnxsession.DefaultConfig.
func describeConfig() string {
	keys := make([]string, 0, len(onnxsession.DefaultConfig))
	for k := range onnxsession.DefaultConfig {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = "`" + k + "=" + onnxsession.DefaultConfig[k] + "`"
	}
	return strings.Join(parts, ", ")
}

// Redraw renders the charts and README.md of the results in dir again from
// its results.json, measuring nothing: for a change in how they are drawn
// or described.
func Redraw(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return fmt.Errorf("redraw: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("redraw: %s: %w", dir, err)
	}
	for i := range r.Charts {
		if err := r.Charts[i].render(dir); err != nil {
			return fmt.Errorf("redraw: chart %s: %w", r.Charts[i].File, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("redraw: %w", err)
	}
	return nil
}
