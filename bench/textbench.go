package bench

import (
	"fmt"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/text"
)

var textBatches = []int{1, 8, 32, 128}

// textSet is one length's sentences.
type textSet struct {
	textLength
	texts []string
	mean  float64 // tokens per sentence
}

func (r *runner) textSets(p *text.Preparer) ([]textSet, error) {
	var sets []textSet
	for _, l := range textLengths {
		texts, mean, err := sentences(p, textBatches[len(textBatches)-1], l.Tokens)
		if err != nil {
			return nil, err
		}
		sets = append(sets, textSet{textLength: l, texts: texts, mean: mean})
	}
	return sets, nil
}

func (r *runner) openText(variant modelstore.Variant, sess onnxsession.Options) (*text.Encoder, error) {
	return text.Load(r.dir, text.Options{Variant: variant, Session: sess, BatchSize: textBatches[len(textBatches)-1]})
}

// encodeTexts is one Encode call that fails on any item's error.
func (r *runner) encodeTexts(enc *text.Encoder, texts []string) error {
	return firstErr(errsOf(enc.Encode(r.ctx, texts)))
}

// textSection measures sentences/s per length and batch against the
// ceiling, and single-query latency against the bare model call.
func (r *runner) textSection() error {
	enc, err := r.openText(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer enc.Close()
	mm, err := openMatMul(r.work, kindFP32, r.sess)
	if err != nil {
		return err
	}
	defer mm.Close()
	sets, err := r.textSets(enc.Preparer)
	if err != nil {
		return err
	}
	tp := modelgen.TextParamsFor(r.size)
	type key struct{ set, batch int }
	sps := map[key][]float64{}
	ratio := map[key][]float64{}
	// The big calls take seconds each: three runs of them are enough to
	// take a median, and keep `make bench` within its time budget.
	reps := min(r.cfg.Reps, 3)
	for rep := 0; rep <= reps; rep++ { // rep 0 warms up, on the small batches
		for si, s := range sets {
			for _, b := range textBatches {
				op := func() error { return r.encodeTexts(enc, s.texts[:b]) }
				if rep == 0 {
					if b <= 8 {
						if err := op(); err != nil {
							return err
						}
					}
					continue
				}
				v, q, err := r.vsCeiling(mm, textFLOPs(tp, s.mean), b, op)
				if err != nil {
					return err
				}
				k := key{si, b}
				sps[k] = append(sps[k], v)
				ratio[k] = append(ratio[k], q)
			}
		}
		if rep > 0 {
			r.logf("text rep %d/%d", rep, reps)
		}
	}
	chart := Chart{File: "text_throughput.png", Title: "Text tower, fp32: sentences/s as a fraction of the MatMul ceiling",
		YLabel: "fraction of ceiling", Lines: []HLine{{Name: "target batch 32 short", Value: 0.70}}}
	for _, b := range textBatches {
		chart.Labels = append(chart.Labels, fmt.Sprintf("batch %d", b))
	}
	for si, s := range sets {
		series := Series{Name: fmt.Sprintf("%s (%.0f tokens)", s.Name, s.mean)}
		for _, b := range textBatches {
			k := key{si, b}
			row := Row{Metric: fmt.Sprintf("%s texts (%.1f tokens), batch %d", s.Name, s.mean, b), Value: median(sps[k]),
				Unit: "sentences/s", Ratio: median(ratio[k]), Ref: "fp32 ceiling sentences/s", Runs: len(sps[k]),
				Note: fmt.Sprintf("ceiling %.1f sentences/s at %.0f MFLOP per sentence", median(sps[k])/median(ratio[k]), textFLOPs(tp, s.mean)/1e6)}
			if s.Name == "short" && b == 32 {
				row.Target, row.Pass = ">= 0.70", atLeast(row.Ratio, 0.70)
			}
			r.res.add("Text tower (fp32)", row)
			series.Values = append(series.Values, median(ratio[k]))
		}
		chart.Series = append(chart.Series, series)
	}
	r.res.Charts = append(r.res.Charts, chart)
	return r.latency(enc, sets[0].texts[0])
}

// bareText is the text graph called with ready tensors: the floor under
// Encoder's single-query latency.
type bareText struct {
	sess   *onnxsession.Session
	inputs []ort.Value
	out    ort.Value
}

func openBareText(graph string, opts onnxsession.Options, ids []int64, hidden int) (*bareText, error) {
	sess, err := text.OpenGraph(graph, opts)
	if err != nil {
		return nil, err
	}
	b := &bareText{sess: sess}
	shape := ort.NewShape(1, int64(len(ids)))
	mask := make([]int64, len(ids))
	for i := range mask {
		mask[i] = 1
	}
	idsT, err := ort.NewTensor(shape, append([]int64(nil), ids...))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bare text call: %w", err)
	}
	b.inputs = append(b.inputs, idsT)
	maskT, err := ort.NewTensor(shape, mask)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bare text call: %w", err)
	}
	b.inputs = append(b.inputs, maskT)
	if sess.Has(2) {
		typeT, err := ort.NewEmptyTensor[int64](shape)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("bare text call: %w", err)
		}
		b.inputs = append(b.inputs, typeT)
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(1, int64(len(ids)), int64(hidden)))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bare text call: %w", err)
	}
	b.out = out
	return b, nil
}

func (b *bareText) run() error { return b.sess.Run(b.inputs, []ort.Value{b.out}) }

func (b *bareText) Close() {
	for _, v := range b.inputs {
		v.Destroy()
	}
	if b.out != nil {
		b.out.Destroy()
	}
	b.sess.Close()
}

// latency measures one short query through Encode against the bare model
// call on the same tokens, interleaved.
func (r *runner) latency(enc *text.Encoder, query string) error {
	ids, err := enc.Tokenize(query)
	if err != nil {
		return err
	}
	bare, err := openBareText(enc.GraphPath(), r.sess, ids, enc.Settings().Hidden)
	if err != nil {
		return err
	}
	defer bare.Close()
	full, floor, ratio, err := r.latencyPair(func() error { return r.encodeTexts(enc, []string{query}) }, bare.run)
	if err != nil {
		return err
	}
	n := len(full)
	r.res.add("Text tower (fp32)", Row{Metric: fmt.Sprintf("single short query (%d tokens), p50", len(ids)), Value: quantile(full, 0.5), Unit: "ms",
		Ratio: median(ratio), Ref: "bare model call p50", Target: "<= 1.3", Pass: atMost(median(ratio), 1.3), Runs: r.cfg.Reps,
		Note: fmt.Sprintf("%d calls; bare call p50 %.2f ms", n, quantile(floor, 0.5))})
	r.res.add("Text tower (fp32)", Row{Metric: "single short query, p99", Value: quantile(full, 0.99), Unit: "ms",
		Ratio: quantile(full, 0.99) / quantile(floor, 0.99), Ref: "bare model call p99", Runs: r.cfg.Reps,
		Note: fmt.Sprintf("bare call p99 %.2f ms", quantile(floor, 0.99))})
	return nil
}

// latencyPair times a and b call by call, alternately (a then b, then b
// then a), and returns every call's milliseconds of each and the per-block
// ratios of their medians. Interleaving call by call keeps drift in the
// machine's load, and the order of two calls, out of the ratio.
func (r *runner) latencyPair(a, b func() error) (as, bs, ratio []float64, err error) {
	return r.latencyPairBlocks(a, b, r.cfg.Reps, 40)
}

// latencyPairBlocks is latencyPair with reps blocks of n calls each (5 in
// a quick run).
func (r *runner) latencyPairBlocks(a, b func() error, reps, n int) (as, bs, ratio []float64, err error) {
	if r.cfg.Quick {
		n = 5
	}
	for _, op := range []func() error{a, b} { // warm up
		if err := op(); err != nil {
			return nil, nil, nil, err
		}
	}
	timed := func(op func() error) (float64, error) {
		start := time.Now()
		err := op()
		return float64(time.Since(start).Nanoseconds()) / 1e6, err
	}
	for range reps {
		la, lb := make([]float64, n), make([]float64, n)
		for i := range n {
			first, second := a, b
			fd, sd := &la[i], &lb[i]
			if i%2 == 1 {
				first, second, fd, sd = b, a, &lb[i], &la[i]
			}
			if *fd, err = timed(first); err != nil {
				return nil, nil, nil, err
			}
			if *sd, err = timed(second); err != nil {
				return nil, nil, nil, err
			}
		}
		as, bs = append(as, la...), append(bs, lb...)
		ratio = append(ratio, median(la)/median(lb))
	}
	return as, bs, ratio, nil
}
