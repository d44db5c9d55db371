package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

var imageBatches = []int{1, 8, 32}

func (r *runner) openVision(variant modelstore.Variant, sess onnxsession.Options) (*vision.Encoder, error) {
	return vision.Load(r.dir, vision.Options{Variant: variant, Session: sess, BatchSize: imageBatches[len(imageBatches)-1]})
}

// pixels returns n preprocessed images' worth of values in [-2, 2].
func pixels(enc *vision.Encoder, n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	px := make([]float32, n*enc.Preprocessor().TensorLen())
	for i := range px {
		px[i] = float32(rng.Float64()*4 - 2)
	}
	return px
}

func (r *runner) encodeImages(enc *vision.Encoder, images [][]byte) error {
	return firstErr(errsOf(enc.Encode(r.ctx, images)))
}

// imageSection measures inference alone per batch against the ceiling,
// end to end from JPEG bytes against inference alone, and decode +
// preprocess against Pillow.
func (r *runner) imageSection() error {
	enc, err := r.openVision(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer enc.Close()
	mm, err := openMatMul(r.work, kindFP32, r.sess)
	if err != nil {
		return err
	}
	defer mm.Close()
	vp := modelgen.VisionParamsFor(r.size)
	per := enc.Preprocessor().TensorLen()
	maxBatch := imageBatches[len(imageBatches)-1]
	px := pixels(enc, maxBatch)
	infer := func(b int) func() error {
		return func() error {
			_, err := enc.EncodePixels(px[:b*per], b)
			return err
		}
	}
	ips := map[int][]float64{}
	ratio := map[int][]float64{}
	for rep := 0; rep <= r.cfg.Reps; rep++ { // rep 0 warms up
		for _, b := range imageBatches {
			if rep == 0 {
				if err := infer(b)(); err != nil {
					return err
				}
				continue
			}
			v, q, err := r.vsCeiling(mm, visionFLOPs(vp), b, infer(b))
			if err != nil {
				return err
			}
			ips[b] = append(ips[b], v)
			ratio[b] = append(ratio[b], q)
		}
	}
	chart := Chart{File: "image_throughput.png", Title: "Image tower, fp32: images/s as a fraction of the MatMul ceiling",
		YLabel: "fraction of ceiling", Lines: []HLine{{Name: "target", Value: 0.75}}}
	series := Series{Name: "inference alone"}
	for _, b := range imageBatches {
		row := Row{Metric: fmt.Sprintf("inference alone, batch %d", b), Value: median(ips[b]), Unit: "images/s",
			Ratio: median(ratio[b]), Ref: "fp32 ceiling images/s", Runs: len(ips[b]),
			Note: fmt.Sprintf("ceiling %.1f images/s", median(ips[b])/median(ratio[b]))}
		if b == maxBatch {
			row.Target, row.Pass = ">= 0.75", atLeast(row.Ratio, 0.75)
		}
		r.res.add("Image tower (fp32)", row)
		chart.Labels = append(chart.Labels, fmt.Sprintf("batch %d", b))
		series.Values = append(series.Values, median(ratio[b]))
	}
	chart.Series = append(chart.Series, series)
	r.res.Charts = append(r.res.Charts, chart)
	return r.endToEnd(enc, px)
}

// endToEnd compares Encode on JPEG bytes with EncodePixels on as many
// ready tensors, and decode + preprocess alone with Pillow's.
func (r *runner) endToEnd(enc *vision.Encoder, px []float32) error {
	small, large := [2]int{640, 480}, [2]int{4000, 3000}
	nSmall, nLarge := 32, 4
	if r.cfg.Quick {
		large, nSmall, nLarge = [2]int{1000, 750}, 4, 2
	}
	per := enc.Preprocessor().TensorLen()
	for _, set := range []struct {
		wh [2]int
		n  int
	}{{small, nSmall}, {large, nLarge}} {
		js, err := r.jpegs(set.wh[0], set.wh[1], set.n)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%dx%d JPEG", js.W, js.H)
		e2e := func() error { return r.encodeImages(enc, js.Data) }
		alone := func() error { _, err := enc.EncodePixels(px[:set.n*per], set.n); return err }
		if err := e2e(); err != nil {
			return err
		}
		var vals, rat []float64
		for range r.cfg.Reps {
			de, err := timeOp(e2e, r.minTime, 1)
			if err != nil {
				return err
			}
			da, err := timeOp(alone, r.minTime, 1)
			if err != nil {
				return err
			}
			vals = append(vals, float64(set.n)/de.Seconds())
			rat = append(rat, da.Seconds()/de.Seconds())
		}
		row := Row{Metric: fmt.Sprintf("end to end from %s bytes, batch %d", name, set.n), Value: median(vals), Unit: "images/s",
			Ratio: median(rat), Ref: fmt.Sprintf("inference alone, batch %d", set.n), Runs: len(vals)}
		if set.wh == small {
			row.Target, row.Pass = ">= 0.85", atLeast(row.Ratio, 0.85)
		}
		r.res.add("Image tower (fp32)", row)
		if err := r.preprocessVsPillow(enc, js, name, set.wh == large); err != nil {
			return err
		}
	}
	return nil
}

// preprocessVsPillow times decode + preprocess of each file on one
// goroutine against Pillow + numpy doing the same on the same files.
func (r *runner) preprocessVsPillow(enc *vision.Encoder, js *jpegSet, name string, target bool) error {
	goPass := func() error { return prepAll(enc, js.Data) }
	if err := goPass(); err != nil {
		return err
	}
	havePillow := r.havePillow()
	var goMS, pilMS, rat []float64
	pillowVersion := ""
	for range r.cfg.Reps {
		t := time.Now()
		if err := goPass(); err != nil {
			return err
		}
		g := float64(time.Since(t).Nanoseconds()) / 1e6 / float64(len(js.Data))
		goMS = append(goMS, g)
		if !havePillow {
			continue
		}
		ms, version, err := r.pillowPrep(js.Paths)
		if err != nil {
			return err
		}
		pilMS = append(pilMS, ms)
		rat = append(rat, ms/g)
		pillowVersion = version
	}
	row := Row{Metric: fmt.Sprintf("decode + preprocess alone, %s, one goroutine", name), Value: median(goMS), Unit: "ms/image", Runs: len(goMS)}
	if havePillow {
		row.Ratio, row.Ref = median(rat), "Pillow time / Go time (above 1: Go faster)"
		row.Note = fmt.Sprintf("Pillow %s + numpy: %.2f ms/image", pillowVersion, median(pilMS))
	} else {
		row.Note = "Pillow: n/a (no " + r.cfg.Python + " with PIL and numpy)"
	}
	if target {
		row.Target = ">= 1.0"
		if havePillow {
			row.Pass = atLeast(row.Ratio, 1.0)
		} else {
			row.Pass = "n/a"
		}
	}
	r.res.add("Image tower (fp32)", row)
	return nil
}
