package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
	"github.com/mclip-go/mclip/vectorizer/text"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

// childEnv names the environment variable that makes a re-executed bench
// binary a memory probe: its value is a childSpec in JSON.
const childEnv = "MCLIP_BENCH_CHILD"

// childSpec is what one memory probe loads and runs.
type childSpec struct {
	ModelDir string              `json:"modelDir"`
	Variant  string              `json:"variant"`
	Towers   string              `json:"towers"` // text, vision or both
	Session  onnxsession.Options `json:"session"`
	Load     int                 `json:"load"` // model calls of each tower after loading
	// Concurrent loads both towers at once, each on its own goroutine.
	Concurrent bool `json:"concurrent,omitempty"`
}

// childResult is what a probe measured, in KiB and milliseconds.
type childResult struct {
	RSSStart     int64   `json:"rssStartKiB"`
	HWMLoaded    int64   `json:"hwmLoadedKiB"`
	RSSLoaded    int64   `json:"rssLoadedKiB"`
	HWMUnderLoad int64   `json:"hwmUnderLoadKiB"`
	RSSUnderLoad int64   `json:"rssUnderLoadKiB"`
	ReadyMS      float64 `json:"readyMs"`
	Err          string  `json:"error,omitempty"`
}

// MaybeChild runs a memory probe and exits when this process was started
// as one (see childEnv); otherwise it returns at once. Call it first thing
// in main (and TestMain).
func MaybeChild() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	res, err := runChild(spec)
	if err != nil {
		res.Err = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	os.Exit(0)
}

func runChild(specJSON string) (childResult, error) {
	var res childResult
	start := time.Now()
	var spec childSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		return res, fmt.Errorf("child spec: %w", err)
	}
	res.RSSStart, _ = procStatus("VmRSS")
	if err := ortlib.Init(spec.Session.ORTLib); err != nil {
		return res, err
	}
	dir := modelstore.Dir{Root: spec.ModelDir}
	variant := modelstore.Variant(spec.Variant)
	var te *text.Encoder
	var ve *vision.Encoder
	var teErr, veErr error
	var wg sync.WaitGroup
	if spec.Towers != "vision" {
		wg.Go(func() { te, teErr = text.Load(dir, text.Options{Variant: variant, Session: spec.Session}) })
		if !spec.Concurrent {
			wg.Wait()
		}
	}
	if spec.Towers != "text" {
		wg.Go(func() { ve, veErr = vision.Load(dir, vision.Options{Variant: variant, Session: spec.Session}) })
	}
	wg.Wait()
	if te != nil {
		defer te.Close()
	}
	if ve != nil {
		defer ve.Close()
	}
	if err := errors.Join(teErr, veErr); err != nil {
		return res, err
	}
	res.ReadyMS = float64(time.Since(start).Microseconds()) / 1000
	res.HWMLoaded, _ = procStatus("VmHWM")
	res.RSSLoaded, _ = procStatus("VmRSS")
	if spec.Load > 0 {
		ctx := context.Background()
		if te != nil {
			texts, _, err := sentences(te.Preparer, 32, 40)
			if err != nil {
				return res, err
			}
			for range spec.Load {
				if err := firstErr(errsOf(te.Encode(ctx, texts))); err != nil {
					return res, err
				}
			}
		}
		if ve != nil {
			px := pixels(ve, 32)
			for range spec.Load {
				if _, err := ve.EncodePixels(px, 32); err != nil {
					return res, err
				}
			}
		}
		res.HWMUnderLoad, _ = procStatus("VmHWM")
		res.RSSUnderLoad, _ = procStatus("VmRSS")
	}
	return res, nil
}

func errsOf(_ [][]float32, errs []error) []error { return errs }

// procStatus reads a "kB" field of /proc/self/status.
func procStatus(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == field {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// probe re-executes this binary as a memory probe.
func (r *runner) probe(spec childSpec) (childResult, error) {
	var res childResult
	spec.ModelDir = r.cfg.ModelDir
	if spec.Session.IntraOpThreads == 0 {
		spec.Session.IntraOpThreads = r.cfg.Threads
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return res, err
	}
	exe, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("memory probe: %w", err)
	}
	cmd := exec.CommandContext(r.ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return res, fmt.Errorf("memory probe %s %s: %w: %s", spec.Variant, spec.Towers, err, stderr.String())
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return res, fmt.Errorf("memory probe %s %s: %w (output %q)", spec.Variant, spec.Towers, err, out)
	}
	if res.Err != "" {
		return res, fmt.Errorf("memory probe %s %s: %s", spec.Variant, spec.Towers, res.Err)
	}
	return res, nil
}

// fileSize sums the sizes of the files a tower set loads.
func (r *runner) fileSize(variant modelstore.Variant, towers string) (int64, error) {
	var paths []string
	if towers != "vision" {
		g, err := r.dir.TextGraph(variant)
		if err != nil {
			return 0, err
		}
		paths = append(paths, g, r.dir.Text("2_Dense/model.safetensors"))
	}
	if towers != "text" {
		g, err := r.dir.VisionGraph(variant)
		if err != nil {
			return 0, err
		}
		paths = append(paths, g)
	}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return 0, fmt.Errorf("model file: %w", err)
		}
		total += st.Size()
	}
	return total, nil
}

// memorySection loads each variant's towers in a fresh process and reads
// its resident memory after loading and under load, and its start-up time.
func (r *runner) memorySection() error {
	const section = "Memory and start-up"
	load := 2
	if r.cfg.Quick {
		load = 1
	}
	for _, v := range []modelstore.Variant{modelstore.VariantFP32, modelstore.VariantInt8, modelstore.VariantFP16} {
		towerSets := []string{"text", "vision", "both"}
		if r.cfg.Quick {
			towerSets = towerSets[2:]
		}
		for _, towers := range towerSets {
			size, err := r.fileSize(v, towers)
			if err != nil {
				return err
			}
			spec := childSpec{Variant: string(v), Towers: towers, Session: r.sess}
			if towers == "both" {
				spec.Load = load
			}
			res, err := r.probe(spec)
			if err != nil {
				return err
			}
			mb := func(kib int64) float64 { return float64(kib) / 1024 }
			fileMB := float64(size) / (1 << 20)
			row := Row{Metric: fmt.Sprintf("%s, %s: RSS after loading", v, towers), Value: mb(res.RSSLoaded), Unit: "MiB",
				Ratio: mb(res.RSSLoaded) / fileMB, Ref: fmt.Sprintf("model files (%.0f MiB)", fileMB), Runs: 1,
				Note: fmt.Sprintf("peak while loading (VmHWM) %.0f MiB (%.2fx); process before loading %.0f MiB; ready in %.2f s",
					mb(res.HWMLoaded), mb(res.HWMLoaded)/fileMB, mb(res.RSSStart), res.ReadyMS/1000)}
			if v == modelstore.VariantFP32 && towers == "both" {
				row.Target, row.Pass = "<= 1.25", atMost(row.Ratio, 1.25)
			}
			r.res.add(section, row)
			if spec.Load > 0 {
				r.res.add(section, Row{Metric: fmt.Sprintf("%s, both: peak RSS under load", v), Value: mb(res.HWMUnderLoad), Unit: "MiB",
					Ratio: mb(res.HWMUnderLoad) / fileMB, Ref: "model files", Runs: 1,
					Note: fmt.Sprintf("%d calls of 32 medium texts and of 32 images; RSS after %.0f MiB", load, mb(res.RSSUnderLoad))})
				r.res.add(section, Row{Metric: fmt.Sprintf("%s, both: start-up to ready", v), Value: res.ReadyMS / 1000, Unit: "s", Runs: 1,
					Note: readyNote(r.cfg.Quick)})
			}
		}
	}
	return nil
}

// readyNote says what the start-up row measured: in a full run, the single
// towers' rows come first and fill the optimized-graph cache.
func readyNote(quick bool) string {
	if quick {
		return "process start to both towers loaded: a first start, which optimises, fuses and saves each graph into the optimized-graph cache"
	}
	return "process start to both towers loaded (ONNX Runtime initialised), from the optimized-graph cache; the single-tower rows above were first starts, which optimise, fuse and save each graph"
}
