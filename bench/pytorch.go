package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// torchBaseline is bench/photos/pytorch_baseline.py running in --serve
// mode: what the Python container runs (Pillow + CLIP's preprocessing, the
// vision tower in PyTorch, batches of 32), loaded once and asked for one
// timed pass at a time, so that its passes interleave with mclip's.
type torchBaseline struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	info torchInfo
}

// torchInfo is what the script says once it is ready.
type torchInfo struct {
	Torch     string   `json:"torch"`
	Threads   int      `json:"threads"`
	BLAS      []string `json:"blas"`
	MinCosine float64  `json:"min_cosine_to_mclip"`
}

// note describes the baseline for a row.
func (i torchInfo) note() string {
	blas := "unknown"
	if len(i.BLAS) > 0 {
		libs := make([]string, len(i.BLAS))
		for k, p := range i.BLAS {
			libs[k] = filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p))
		}
		blas = strings.Join(libs, ", ")
	}
	return fmt.Sprintf("PyTorch %s, %d threads, BLAS %s; its vectors against mclip's: min cosine %.8f", i.Torch, i.Threads, blas, i.MinCosine)
}

// torchScript is the PyTorch + Pillow baseline (under bench/).
const torchScript = "photos/pytorch_baseline.py"

// haveTorch says whether the PyTorch comparison can run: the interpreter
// has torch, onnx, PIL and numpy (setup/bench-packages), and the script is
// there.
func (r *runner) haveTorch() bool {
	_, ok := r.pythonScript(torchScript, "torch, onnx, PIL, numpy")
	return ok
}

// startTorch starts the script on the files, with mclip's vectors of the
// same files for its check (it exits when its vectors are not the same
// computation), and waits until it has loaded and warmed up.
func (r *runner) startTorch(paths []string, vecs [][]float32) (*torchBaseline, error) {
	check, err := os.CreateTemp(r.work, "mclip-vectors-*.json")
	if err != nil {
		return nil, fmt.Errorf("pytorch baseline: %w", err)
	}
	defer os.Remove(check.Name())
	type image struct {
		Vector []float32 `json:"vector"`
	}
	doc := struct {
		Images []image `json:"images"`
	}{}
	for _, v := range vecs {
		doc.Images = append(doc.Images, image{Vector: v})
	}
	if err := errors.Join(json.NewEncoder(check).Encode(doc), check.Close()); err != nil {
		return nil, fmt.Errorf("pytorch baseline: %w", err)
	}
	threads := strconv.Itoa(r.cfg.Threads)
	args := []string{filepath.Join(r.cfg.RepoRoot, "bench", filepath.FromSlash(torchScript)),
		"--model-dir", r.dir.Root, "--threads", threads, "--check", check.Name(), "--serve"}
	cmd := exec.CommandContext(r.ctx, r.cfg.Python, append(args, paths...)...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+threads, "OMP_NUM_THREADS="+threads)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t := &torchBaseline{cmd: cmd}
	if t.in, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("pytorch baseline: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("pytorch baseline: %w", err)
	}
	t.out = bufio.NewScanner(out)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pytorch baseline: %w", err)
	}
	if !t.out.Scan() {
		err := cmd.Wait()
		return nil, fmt.Errorf("pytorch baseline did not start: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(t.out.Bytes(), &t.info); err != nil {
		t.Close()
		return nil, fmt.Errorf("pytorch baseline: %q: %w", t.out.Text(), err)
	}
	return t, nil
}

// pass times one pass of the baseline over the files at these indices,
// from file bytes in memory to vectors.
func (t *torchBaseline) pass(idx []int) (time.Duration, error) {
	s := make([]string, len(idx))
	for i, v := range idx {
		s[i] = strconv.Itoa(v)
	}
	if _, err := fmt.Fprintln(t.in, strings.Join(s, " ")); err != nil {
		return 0, fmt.Errorf("pytorch baseline: %w", err)
	}
	if !t.out.Scan() {
		return 0, fmt.Errorf("pytorch baseline ended: %v", t.out.Err())
	}
	var res struct {
		Seconds float64 `json:"seconds"`
		N       int     `json:"n"`
	}
	if err := json.Unmarshal(t.out.Bytes(), &res); err != nil {
		return 0, fmt.Errorf("pytorch baseline: %q: %w", t.out.Text(), err)
	}
	if res.N != len(idx) {
		return 0, fmt.Errorf("pytorch baseline ran %d files, asked %d", res.N, len(idx))
	}
	return time.Duration(res.Seconds * float64(time.Second)), nil
}

// Close ends the script.
func (t *torchBaseline) Close() error {
	t.in.Close()
	return t.cmd.Wait()
}
