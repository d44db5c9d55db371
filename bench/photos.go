package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

// photoSection is the title of the real-corpusImage section.
const photoSection = "Real photos (fp32, bench/photos corpus)"

// corpusImage is one image of the corpus bench/photos/build.sh writes.
type corpusImage struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Mode   string `json:"mode"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Class  string `json:"class"`
	Source string `json:"source"`
	index  int    // in the corpus, as read
	path   string
	data   []byte
}

// photoCorpus reads the corpus (default ROOT/.cache/photos); nil when it
// has not been built.
func (r *runner) photoCorpus() ([]corpusImage, error) {
	dir := r.cfg.PhotoDir
	if dir == "" {
		dir = filepath.Join(r.cfg.RepoRoot, ".cache", "photos")
	}
	b, err := os.ReadFile(filepath.Join(dir, "corpus.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("corpusImage corpus: %w", err)
	}
	var c struct {
		Images []corpusImage `json:"images"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("corpusImage corpus %s: %w", dir, err)
	}
	for i := range c.Images {
		p := &c.Images[i]
		p.index = i
		p.path = filepath.Join(dir, filepath.FromSlash(p.File))
		if p.data, err = os.ReadFile(p.path); err != nil {
			return nil, fmt.Errorf("corpusImage corpus: %w", err)
		}
	}
	if r.cfg.Quick && len(c.Images) > 4 { // a smoke run: the four smallest
		slices.SortStableFunc(c.Images, func(a, b corpusImage) int { return a.Width*a.Height - b.Width*b.Height })
		c.Images = c.Images[:4]
		for i := range c.Images {
			c.Images[i].index = i
		}
	}
	return c.Images, nil
}

// photosSection measures the vision tower end to end on real photos, from
// file bytes to vectors, steady state, for the whole corpus, per format and
// per size class: against inference alone on as many ready tensors;
// against Pillow + the same preprocessing, one thread, then the same bare
// ONNX Runtime model call, whose time is Pillow's measured time plus
// inference alone, both measured in this run; and against what the Python
// container runs, Pillow and the vision tower in PyTorch on the same
// weights (bench/photos/pytorch_baseline.py), a pass of it after each of
// mclip's.
func (r *runner) photosSection() error {
	corpus, err := r.photoCorpus()
	if err != nil {
		return err
	}
	if corpus == nil {
		r.res.add(photoSection, Row{Metric: "skipped", Unit: "-", Note: "no corpus: run bench/photos/build.sh (writes .cache/photos)"})
		return nil
	}
	enc, err := r.openVision(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer enc.Close()
	per := enc.Preprocessor().TensorLen()
	bs := imageBatches[len(imageBatches)-1]
	px := pixels(enc, bs)
	// inferAlone runs what Encode runs for n images, on ready tensors.
	inferAlone := func(n int) error {
		for start := 0; start < n; start += bs {
			b := min(bs, n-start)
			if _, err := enc.EncodePixels(px[:b*per], b); err != nil {
				return err
			}
		}
		return nil
	}
	type subset struct {
		name   string
		photos []corpusImage
		target bool
	}
	sets := []subset{{name: "all", photos: corpus, target: true}}
	for _, f := range []string{"jpeg", "png", "webp"} {
		sets = append(sets, subset{name: f, photos: filterPhotos(corpus, func(p corpusImage) bool { return p.Format == f })})
	}
	for _, c := range []string{"<1MP", "1-4MP", ">4MP"} {
		sets = append(sets, subset{name: c, photos: filterPhotos(corpus, func(p corpusImage) bool { return p.Class == c })})
	}
	havePillow := r.havePillow()
	torch, err := r.photoTorch(enc, corpus)
	if err != nil {
		return err
	}
	if torch != nil {
		defer torch.Close()
	}
	for _, s := range sets {
		if len(s.photos) == 0 {
			continue
		}
		data := make([][]byte, len(s.photos))
		paths := make([]string, len(s.photos))
		var mp float64
		for i, p := range s.photos {
			data[i], paths[i] = p.data, p.path
			mp += float64(p.Width*p.Height) / 1e6
		}
		n := len(data)
		e2e := func() error { return r.encodeImages(enc, data) }
		var vals, vsAlone, vsPillow, pilMS, vsTorch, torchRate, ceil, ofCeil, prepS, aloneS []float64
		for range r.cfg.Reps {
			de, err := timeOp(e2e, r.minTime, 1)
			if err != nil {
				return err
			}
			da, err := timeOp(func() error { return inferAlone(n) }, r.minTime, 1)
			if err != nil {
				return err
			}
			vals = append(vals, float64(n)/de.Seconds())
			vsAlone = append(vsAlone, da.Seconds()/de.Seconds())
			if s.target {
				// The ceiling of end to end on these cores: the model keeps
				// them all busy, so decoding's CPU time adds to it, spread
				// over the cores at best.
				dp, err := timeOp(func() error { return prepAll(enc, data) }, r.minTime, 1)
				if err != nil {
					return err
				}
				c := da.Seconds() / (da.Seconds() + dp.Seconds()/float64(r.cfg.Threads))
				ceil, ofCeil = append(ceil, c), append(ofCeil, da.Seconds()/de.Seconds()/c)
				prepS, aloneS = append(prepS, dp.Seconds()), append(aloneS, da.Seconds())
			}
			if havePillow {
				ms, _, err := r.pillowPrep(paths)
				if err != nil {
					return err
				}
				pilMS = append(pilMS, ms)
				python := time.Duration(ms*float64(n)*1e6) + da
				vsPillow = append(vsPillow, python.Seconds()/de.Seconds())
			}
			if torch != nil {
				idx := make([]int, n)
				for i, p := range s.photos {
					idx[i] = p.index
				}
				dt, err := torch.pass(idx)
				if err != nil {
					return err
				}
				torchRate = append(torchRate, float64(n)/dt.Seconds())
				vsTorch = append(vsTorch, dt.Seconds()/de.Seconds())
			}
		}
		name := fmt.Sprintf("%s (%d files, %.1f MP)", s.name, n, mp)
		row := Row{Metric: "end to end from file bytes, " + name, Value: median(vals), Unit: "images/s",
			Ratio: median(vsAlone), Ref: "inference alone, same batches", Runs: len(vals)}
		if s.target {
			row.Target, row.Pass = ">= 0.75", atLeast(row.Ratio, 0.75)
		}
		r.res.add(photoSection, row)
		if s.target {
			r.res.add(photoSection, Row{Metric: fmt.Sprintf("ceiling of the above on %d cores: inference alone / (inference alone + decode + preprocess on one goroutine / %d), %s", r.cfg.Threads, r.cfg.Threads, name),
				Value: median(ceil), Unit: "of inference alone", Ratio: median(ofCeil), Ref: "end to end's share of inference alone / this ceiling", Runs: len(ceil),
				Note: fmt.Sprintf("decode + preprocess of the %d files on one goroutine %.2f s, inference alone %.2f s", n, median(prepS), median(aloneS))})
		}
		if havePillow {
			row := Row{Metric: "vs Pillow + bare model call, " + name, Value: median(vals), Unit: "images/s",
				Ratio: median(vsPillow), Ref: "(Pillow one thread + inference alone) time / mclip time", Runs: len(vsPillow),
				Note: fmt.Sprintf("Pillow decode + preprocess %.1f ms/image", median(pilMS))}
			r.res.add(photoSection, row)
		}
		if torch != nil {
			row := Row{Metric: "vs PyTorch + Pillow (the Python container's way), " + name, Value: median(torchRate), Unit: "images/s",
				Ratio: median(vsTorch), Ref: "PyTorch + Pillow time / mclip time, same files, passes alternated", Runs: len(vsTorch)}
			if s.target {
				row.Target, row.Pass = ">= 2.5", atLeast(row.Ratio, 2.5)
				row.Note = torch.info.note()
			}
			r.res.add(photoSection, row)
		} else if s.target {
			r.res.add(photoSection, Row{Metric: "vs PyTorch + Pillow (the Python container's way): skipped", Unit: "-",
				Note: r.cfg.Python + " lacks torch, onnx, PIL or numpy: install setup/bench-packages (make bench-setup)"})
		}
	}
	return r.photoPrepVsPillow(enc, corpus, havePillow)
}

// photoTorch starts the PyTorch baseline on the corpus, checked against
// mclip's vectors of it; nil when the interpreter lacks what it needs.
func (r *runner) photoTorch(enc *vision.Encoder, corpus []corpusImage) (*torchBaseline, error) {
	if !r.haveTorch() {
		return nil, nil
	}
	data := make([][]byte, len(corpus))
	paths := make([]string, len(corpus))
	for i, p := range corpus {
		data[i], paths[i] = p.data, p.path
	}
	vecs, errs := enc.Encode(r.ctx, data)
	if err := firstErr(errs); err != nil {
		return nil, err
	}
	return r.startTorch(paths, vecs)
}

// photoPrepVsPillow times decode + preprocess of the largest file of each
// format on one goroutine against Pillow on one thread.
func (r *runner) photoPrepVsPillow(enc *vision.Encoder, corpus []corpusImage, havePillow bool) error {
	dst := make([]float32, enc.Preprocessor().TensorLen())
	for _, f := range []string{"jpeg", "png", "webp"} {
		of := filterPhotos(corpus, func(p corpusImage) bool { return p.Format == f })
		if len(of) == 0 {
			continue
		}
		p := slices.MaxFunc(of, func(a, b corpusImage) int { return a.Width*a.Height - b.Width*b.Height })
		goPass := func() error { return enc.Preprocess(p.data, dst) }
		var goMS, pilMS, rat []float64
		for range r.cfg.Reps {
			d, err := timeOp(goPass, r.minTime, 1)
			if err != nil {
				return err
			}
			g := float64(d.Nanoseconds()) / 1e6
			goMS = append(goMS, g)
			if havePillow {
				ms, _, err := r.pillowPrep([]string{p.path})
				if err != nil {
					return err
				}
				pilMS = append(pilMS, ms)
				rat = append(rat, ms/g)
			}
		}
		row := Row{Metric: fmt.Sprintf("decode + preprocess alone, %s %s %dx%d, one goroutine", f, p.Mode, p.Width, p.Height),
			Value: median(goMS), Unit: "ms/image", Runs: len(goMS), Target: ">= 2.5"}
		if havePillow {
			row.Ratio, row.Ref, row.Pass = median(rat), "Pillow time / Go time (above 1: Go faster)", atLeast(median(rat), 2.5)
			row.Note = fmt.Sprintf("Pillow: %.1f ms/image", median(pilMS))
		} else {
			row.Pass = "n/a"
		}
		r.res.add(photoSection, row)
	}
	return nil
}

// prepAll decodes and preprocesses the images one after the other on this
// goroutine.
func prepAll(enc *vision.Encoder, images [][]byte) error {
	dst := make([]float32, enc.Preprocessor().TensorLen())
	for _, b := range images {
		if err := enc.Preprocess(b, dst); err != nil {
			return err
		}
	}
	return nil
}

func filterPhotos(ps []corpusImage, keep func(corpusImage) bool) []corpusImage {
	var out []corpusImage
	for _, p := range ps {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// pythonScript returns the path of the bench's Python script rel (under
// bench/) when the interpreter runs and imports modules; ok is false when
// the comparison it makes cannot run here.
func (r *runner) pythonScript(rel, modules string) (path string, ok bool) {
	if r.cfg.Python == "none" || exec.Command(r.cfg.Python, "-c", "import "+modules).Run() != nil {
		return "", false
	}
	path = filepath.Join(r.cfg.RepoRoot, "bench", filepath.FromSlash(rel))
	_, err := os.Stat(path)
	return path, err == nil
}

// havePillow says whether the Pillow comparison can run.
func (r *runner) havePillow() bool {
	_, ok := r.pythonScript(pillowScript, "PIL, numpy")
	return ok
}

// pillowScript times Pillow's decode + preprocess (under bench/).
const pillowScript = "pillow_prep.py"

// pillowPrep runs bench/pillow_prep.py on the files: Pillow's decode +
// preprocess time per image, one thread, and Pillow's version.
func (r *runner) pillowPrep(paths []string) (float64, string, error) {
	script := filepath.Join(r.cfg.RepoRoot, "bench", pillowScript)
	out, err := exec.CommandContext(r.ctx, r.cfg.Python, append([]string{script}, paths...)...).Output()
	if err != nil {
		return 0, "", fmt.Errorf("pillow comparison: %w", err)
	}
	var res struct {
		MS     float64 `json:"ms_per_image"`
		Pillow string  `json:"pillow"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, "", fmt.Errorf("pillow comparison: %w", err)
	}
	return res.MS, res.Pillow, nil
}
