package bench

import (
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
)

// variantSection measures int8 against fp32, interleaved: speed on text
// and images, and how close the int8 vectors stay to the fp32 ones.
func (r *runner) variantSection() error {
	const section = "int8 against fp32"
	t32, err := r.openText(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer t32.Close()
	t8, err := r.openText(modelstore.VariantInt8, r.sess)
	if err != nil {
		return err
	}
	defer t8.Close()
	v32, err := r.openVision(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer v32.Close()
	v8, err := r.openVision(modelstore.VariantInt8, r.sess)
	if err != nil {
		return err
	}
	defer v8.Close()
	keep := r.sess
	keep.Tuning.KeepUint8Weights = true
	t8u, err := r.openText(modelstore.VariantInt8, keep)
	if err != nil {
		return err
	}
	defer t8u.Close()
	v8u, err := r.openVision(modelstore.VariantInt8, keep)
	if err != nil {
		return err
	}
	defer v8u.Close()
	sets, err := r.textSets(t32.Preparer)
	if err != nil {
		return err
	}
	px := pixels(v32, 32)
	cases := []struct {
		name     string
		fp, int8 func() error
		ref      string
	}{
		{"text, batch 32 short", func() error { return r.encodeTexts(t32, sets[0].texts[:32]) }, func() error { return r.encodeTexts(t8, sets[0].texts[:32]) }, ""},
		{"text, batch 32 medium", func() error { return r.encodeTexts(t32, sets[1].texts[:32]) }, func() error { return r.encodeTexts(t8, sets[1].texts[:32]) }, ""},
		{"text, 1 short query", func() error { return r.encodeTexts(t32, sets[0].texts[:1]) }, func() error { return r.encodeTexts(t8, sets[0].texts[:1]) }, ""},
		{"images, batch 32", func() error { _, err := v32.EncodePixels(px, 32); return err }, func() error { _, err := v8.EncodePixels(px, 32); return err }, ""},
		{"images, batch 1", func() error { _, err := v32.EncodePixels(px[:len(px)/32], 1); return err }, func() error { _, err := v8.EncodePixels(px[:len(px)/32], 1); return err }, ""},
		{"weights flipped to int8 (default on VNNI) against uint8 as stored, text, batch 32 medium",
			func() error { return r.encodeTexts(t8u, sets[1].texts[:32]) }, func() error { return r.encodeTexts(t8, sets[1].texts[:32]) }, "uint8-weight time / int8-weight time"},
		{"weights flipped to int8 (default on VNNI) against uint8 as stored, images, batch 32",
			func() error { _, err := v8u.EncodePixels(px, 32); return err }, func() error { _, err := v8.EncodePixels(px, 32); return err }, "uint8-weight time / int8-weight time"},
	}
	for _, c := range cases {
		if err := c.fp(); err != nil {
			return err
		}
		if err := c.int8(); err != nil {
			return err
		}
		var speed, t8s []float64
		for range r.cfg.Reps {
			d32, err := timeOp(c.fp, r.minTime, 1)
			if err != nil {
				return err
			}
			d8, err := timeOp(c.int8, r.minTime, 1)
			if err != nil {
				return err
			}
			speed = append(speed, d32.Seconds()/d8.Seconds())
			t8s = append(t8s, d8.Seconds()*1000)
		}
		ref := c.ref
		if ref == "" {
			ref = "fp32 time / int8 time"
		}
		row := Row{Metric: "int8 speed-up, " + c.name, Value: median(t8s), Unit: "ms per call (int8)", Ratio: median(speed),
			Ref: ref, Runs: len(speed)}
		if c.name == "text, batch 32 medium" || c.name == "images, batch 32" {
			row.Target, row.Pass = ">= 1.6", atLeast(row.Ratio, 1.6)
		}
		r.res.add(section, row)
	}
	// Quality: cosine of int8 against fp32 vectors.
	var texts []string
	for _, s := range sets {
		texts = append(texts, s.texts[:32]...)
	}
	a, errs := t32.Encode(r.ctx, texts)
	if err := firstErr(errs); err != nil {
		return err
	}
	b, errs := t8.Encode(r.ctx, texts)
	if err := firstErr(errs); err != nil {
		return err
	}
	r.cosineRows(section, "text", a, b)
	n := 16
	if r.cfg.Quick {
		n = 2
	}
	js, err := r.jpegs(320, 240, n)
	if err != nil {
		return err
	}
	a, errs = v32.Encode(r.ctx, js.Data)
	if err := firstErr(errs); err != nil {
		return err
	}
	b, errs = v8.Encode(r.ctx, js.Data)
	if err := firstErr(errs); err != nil {
		return err
	}
	r.cosineRows(section, "image", a, b)
	return nil
}

func (r *runner) cosineRows(section, what string, a, b [][]float32) {
	cos := make([]float64, len(a))
	lo := math.Inf(1)
	for i := range a {
		cos[i] = vectorizer.Cosine(a[i], b[i])
		lo = min(lo, cos[i])
	}
	var mean float64
	for _, c := range cos {
		mean += c
	}
	mean /= float64(len(cos))
	r.res.add(section, Row{Metric: fmt.Sprintf("int8 quality, %s vectors: mean cosine to fp32", what), Value: mean, Unit: "cosine",
		Target: ">= 0.99", Pass: atLeast(mean, 0.99),
		Note: fmt.Sprintf("%d %ss on the generated (random-weight) model; lowest %.4f", len(cos), what, lo)})
}

func firstErr(errs []error) error {
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}
