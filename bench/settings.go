package bench

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/text"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

// setting is one ONNX Runtime setting applied alone on top of the
// defaults.
type setting struct {
	name  string
	apply func(o *onnxsession.Options)
	// twice loads the probe twice and reports the second start (for the
	// optimized-graph cache, which the first start fills).
	twice bool
}

func withConfig(k, v string) func(o *onnxsession.Options) {
	return func(o *onnxsession.Options) {
		c := maps.Clone(o.Tuning.Config)
		if c == nil {
			c = map[string]string{}
		}
		c[k] = v
		o.Tuning.Config = c
	}
}

// ortDefaults are ONNX Runtime's own values of the boolean config
// entries the suite flips.
var ortDefaults = map[string]string{
	"session.intra_op.allow_spinning": "1",
	"session.force_spinning_stop":     "0",
	"session.disable_prepacking":      "0",
}

// flipConfig is the boolean config entry k set to the opposite of its
// value in mclip's defaults.
func flipConfig(k string) setting {
	v, ok := onnxsession.DefaultConfig[k]
	if !ok {
		v = ortDefaults[k]
	}
	flipped := "1"
	if v == "1" {
		flipped = "0"
	}
	return setting{name: k + "=" + flipped, apply: withConfig(k, flipped)}
}

func (r *runner) settings() []setting {
	all := []setting{
		// The optimisation level is part of the optimized-graph cache's
		// key: the first start builds an entry, the second (reported, as
		// the defaults' start is) loads it.
		{name: "graph optimisation: extended (default all)", twice: true, apply: func(o *onnxsession.Options) { o.Tuning.GraphOptimization = "extended" }},
		{name: "graph optimisation: disabled", twice: true, apply: func(o *onnxsession.Options) { o.Tuning.GraphOptimization = "disabled" }},
		flipConfig("session.intra_op.allow_spinning"),
		{name: "session.force_spinning_stop=0: threads also spin between calls (ONNX Runtime's default)",
			apply: withConfig("session.force_spinning_stop", "0")},
		flipConfig("session.disable_prepacking"),
		{name: "CPU memory arena off", apply: func(o *onnxsession.Options) { o.Tuning.DisableCPUArena = true }},
		{name: "memory pattern off", apply: func(o *onnxsession.Options) { o.Tuning.DisableMemPattern = true }},
		{name: "no optimized-graph cache: optimized at each start, no fusion (default: cache, fused)",
			apply: func(o *onnxsession.Options) { o.OptimizedCacheDir = "" }},
		{name: "optimized-graph cache without the SkipLayerNormalization fusion (second start)", twice: true,
			apply: func(o *onnxsession.Options) {
				o.OptimizedCacheDir, o.Tuning.SkipFusion = filepath.Join(r.work, "optimized-unfused"), true
			}},
		{name: "no malloc_trim after loading (default: trim)", apply: func(o *onnxsession.Options) { o.Tuning.SkipHeapTrim = true }},
		{name: "1 intra-op thread (default: one per core)", apply: func(o *onnxsession.Options) { o.IntraOpThreads = 1 }},
	}
	if r.cfg.Quick {
		// Each kind of setting once: a session option, a config entry,
		// and a cache measured on its second start.
		return []setting{all[0], all[2], all[8]}
	}
	return all
}

// towers is a text and a vision encoder opened with the same options.
type towers struct {
	text   *text.Encoder
	vision *vision.Encoder
}

func (r *runner) openTowers(opts onnxsession.Options) (*towers, error) {
	te, err := r.openText(modelstore.VariantFP32, opts)
	if err != nil {
		return nil, err
	}
	ve, err := r.openVision(modelstore.VariantFP32, opts)
	if err != nil {
		te.Close()
		return nil, err
	}
	return &towers{text: te, vision: ve}, nil
}

func (t *towers) Close() {
	t.text.Close()
	t.vision.Close()
}

// settingsSection measures each setting against the defaults, interleaved,
// on image and text throughput and single-query latency, and its start-up
// time and memory in a fresh process.
func (r *runner) settingsSection() error {
	base, err := r.openTowers(r.sess)
	if err != nil {
		return err
	}
	defer base.Close()
	sets, err := r.textSets(base.text.Preparer)
	if err != nil {
		return err
	}
	short := sets[0].texts
	px := pixels(base.vision, 32)
	reps := min(r.cfg.Reps, 3)
	// The defaults' start is measured from the optimized-graph cache (the
	// towers opened above filled it), as every start after the first.
	baseProbe, err := r.probe(childSpec{Variant: string(modelstore.VariantFP32), Towers: "both", Session: r.sess})
	if err != nil {
		return err
	}
	r.res.Settings = append(r.res.Settings, Setting{Name: "mclip defaults: " + describeDefaults(r.sess),
		Image: 1, Text: 1, Latency: 1, LoadSeconds: baseProbe.ReadyMS / 1000, Verdict: fmt.Sprintf("reference; RSS after loading %.0f MiB", float64(baseProbe.RSSLoaded)/1024)})
	chart := Chart{File: "settings.png", Title: "ONNX Runtime settings against mclip's defaults (1 = same)", YLabel: "speed relative to defaults",
		Labels: nil, Lines: []HLine{{Name: "defaults", Value: 1}}}
	var img, txt, lat []float64
	for _, s := range r.settings() {
		opts := r.sess
		s.apply(&opts)
		r.logf("setting %s", s.name)
		probe, err := r.probe(childSpec{Variant: string(modelstore.VariantFP32), Towers: "both", Session: opts})
		if err == nil && s.twice {
			probe, err = r.probe(childSpec{Variant: string(modelstore.VariantFP32), Towers: "both", Session: opts})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		cand, err := r.openTowers(opts)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		pair := func(a, b func(*towers) error) ([]float64, error) {
			var out []float64
			for _, t := range []*towers{base, cand} {
				if err := a(t); err != nil {
					return nil, err
				}
			}
			for range reps {
				db, err := timeOp(func() error { return a(base) }, r.minTime, 1)
				if err != nil {
					return nil, err
				}
				dc, err := timeOp(func() error { return b(cand) }, r.minTime, 1)
				if err != nil {
					return nil, err
				}
				out = append(out, db.Seconds()/dc.Seconds())
			}
			return out, nil
		}
		imageOp := func(t *towers) error { _, err := t.vision.EncodePixels(px, 32); return err }
		textOp := func(t *towers) error { return r.encodeTexts(t.text, short[:32]) }
		ri, err := pair(imageOp, imageOp)
		if err != nil {
			cand.Close()
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rt, err := pair(textOp, textOp)
		if err != nil {
			cand.Close()
			return fmt.Errorf("%s: %w", s.name, err)
		}
		_, _, rl, err := r.latencyPairN(func() error { return r.encodeTexts(cand.text, short[:1]) },
			func() error { return r.encodeTexts(base.text, short[:1]) }, reps, 20)
		cand.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		st := Setting{Name: s.name, Image: median(ri), Text: median(rt), Latency: median(rl), LoadSeconds: probe.ReadyMS / 1000}
		st.Verdict = verdict(st, float64(probe.RSSLoaded)/1024, float64(baseProbe.RSSLoaded)/1024, baseProbe.ReadyMS/1000)
		r.res.Settings = append(r.res.Settings, st)
		chart.Labels = append(chart.Labels, shortName(s.name))
		img, txt, lat = append(img, st.Image), append(txt, st.Text), append(lat, 1/max(st.Latency, 1e-9))
	}
	chart.Series = []Series{{Name: "images/s, batch 32", Values: img}, {Name: "sentences/s, batch 32 short", Values: txt}, {Name: "1 / p50 latency, 1 query", Values: lat}}
	r.res.Charts = append(r.res.Charts, chart)
	return nil
}

// latencyPairN is latencyPair with its own repetition count and calls
// per block.
func (r *runner) latencyPairN(a, b func() error, reps, n int) (as, bs, ratio []float64, err error) {
	return r.latencyPairBlocks(a, b, reps, n)
}

// describeDefaults lists the session settings mclip applies by default.
func describeDefaults(o onnxsession.Options) string {
	parts := []string{fmt.Sprintf("%d intra-op threads", o.IntraOpThreads), "graph optimisation all",
		"optimized graphs cached and fused (graphs loaded from the cache)"}
	parts = append(parts, describeConfig())
	return strings.Join(parts, ", ")
}

// verdict says in words what a setting did, from its measured ratios.
func verdict(s Setting, rss, baseRSS, baseLoad float64) string {
	word := func(what string, ratio float64, higherBetter bool) string {
		pct := (ratio - 1) * 100
		if !higherBetter {
			pct = (1/ratio - 1) * 100
		}
		switch {
		case pct > 5:
			return fmt.Sprintf("%s %.0f%% faster", what, pct)
		case pct < -5:
			return fmt.Sprintf("%s %.0f%% slower", what, -pct)
		default:
			return ""
		}
	}
	var parts []string
	for _, p := range []string{word("images", s.Image, true), word("texts", s.Text, true), word("single query", s.Latency, false)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "speed within ±5%")
	}
	if d := s.LoadSeconds - baseLoad; d < -0.2*baseLoad || d > 0.2*baseLoad {
		parts = append(parts, fmt.Sprintf("start-up %.2f s instead of %.2f s", s.LoadSeconds, baseLoad))
	}
	if d := rss - baseRSS; d < -0.05*baseRSS || d > 0.05*baseRSS {
		parts = append(parts, fmt.Sprintf("RSS after loading %.0f MiB instead of %.0f MiB", rss, baseRSS))
	}
	return strings.Join(parts, "; ")
}

func shortName(s string) string {
	s = strings.TrimPrefix(s, "session.")
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "graph optimisation: ", "opt ")
}
