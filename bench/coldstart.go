package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
)

// coldSection is the title of the cold-start section.
const coldSection = "Cold start (fp32)"

// coldStartSection measures what a one-off command pays before its first
// vector: `mclip embed` (bin/mclip) of one text, of one 640x480 JPEG and
// of both, each a fresh process, alternated, from the optimized-graph cache
// (one untimed run fills it first); wall time to the vectors printed and
// peak RSS. Then the two ways a server can load both towers, in fresh
// probes, alternated: both at once (what the module, `mclip serve` and
// `mclip embed` of both do) and one after the other.
func (r *runner) coldStartSection() error {
	mclip := filepath.Join(r.cfg.RepoRoot, "bin", "mclip")
	if _, err := os.Stat(mclip); err != nil {
		r.res.add(coldSection, Row{Metric: "mclip embed: skipped", Unit: "-", Note: "bin/mclip absent: make build (make bench does)"})
	} else if err := r.coldEmbed(mclip); err != nil {
		return err
	}
	return r.coldServer()
}

func (r *runner) coldEmbed(mclip string) error {
	img, err := r.jpegs(640, 480, 1)
	if err != nil {
		return err
	}
	cases := []struct {
		name string
		args []string
	}{
		{"one text", []string{"--text", "ein Hund im Schnee"}},
		{"one 640x480 JPEG", []string{img.Paths[0]}},
		{"one text and one JPEG", []string{"--text", "ein Hund im Schnee", img.Paths[0]}},
	}
	// Peak RSS comes from GNU time, which starts mclip itself: a child
	// that Go starts inherits this process's peak in its own ru_maxrss
	// (os/exec clones with CLONE_VM, and exec keeps the shared memory's
	// high-water mark), and after the photos section that is a gigabyte.
	gnuTime := "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		gnuTime = ""
	}
	rssFile := filepath.Join(r.work, "embed-maxrss")
	embed := func(args []string) (time.Duration, int64, error) {
		argv := append([]string{mclip, "embed", "--model-dir", r.cfg.ModelDir}, args...)
		if gnuTime != "" {
			argv = append([]string{gnuTime, "-f", "%M", "-o", rssFile}, argv...)
		}
		cmd := exec.CommandContext(r.ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), config.EnvVariant+"="+string(modelstore.VariantFP32), config.EnvThreads+"="+strconv.Itoa(r.cfg.Threads))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, 0, fmt.Errorf("mclip embed %v: %w: %s", args, err, stderr.String())
		}
		wall := time.Since(start)
		if gnuTime == "" {
			return wall, 0, nil
		}
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return 0, 0, fmt.Errorf("mclip embed: peak RSS: %w", err)
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("mclip embed: peak RSS %q: %w", b, err)
		}
		return wall, kib, nil
	}
	if _, _, err := embed(cases[2].args); err != nil { // fills the optimized-graph cache
		return err
	}
	walls := make([][]float64, len(cases))
	rss := make([][]float64, len(cases))
	for range r.cfg.Reps {
		for i, c := range cases {
			w, kib, err := embed(c.args)
			if err != nil {
				return err
			}
			walls[i] = append(walls[i], w.Seconds())
			rss[i] = append(rss[i], float64(kib)/1024)
		}
	}
	both := len(cases) - 1
	for i, c := range cases {
		row := Row{Metric: "`mclip embed` of " + c.name + ": process start to vectors printed", Value: median(walls[i]), Unit: "s",
			Runs: len(walls[i]), Note: "peak RSS not measured: /usr/bin/time absent (setup/bench-packages)"}
		if i != both {
			row.Ratio, row.Ref = median(walls[i])/median(walls[both]), "the same for a text and a JPEG (both towers)"
		}
		if gnuTime != "" {
			row.Note = fmt.Sprintf("peak RSS %.0f MiB", median(rss[i]))
			if i != both {
				row.Note += fmt.Sprintf(" (%.2f of both towers' %.0f MiB)", median(rss[i])/median(rss[both]), median(rss[both]))
			}
		}
		r.res.add(coldSection, row)
	}
	return nil
}

// coldServer loads both towers in fresh probes, one after the other and at
// once, alternated.
func (r *runner) coldServer() error {
	var serialMS, concMS, serialHWM, concHWM, ratio, hwmRatio []float64
	for range r.cfg.Reps {
		s, err := r.probe(childSpec{Variant: string(modelstore.VariantFP32), Towers: "both", Session: r.sess})
		if err != nil {
			return err
		}
		c, err := r.probe(childSpec{Variant: string(modelstore.VariantFP32), Towers: "both", Session: r.sess, Concurrent: true})
		if err != nil {
			return err
		}
		serialMS, concMS = append(serialMS, s.ReadyMS), append(concMS, c.ReadyMS)
		serialHWM, concHWM = append(serialHWM, float64(s.HWMLoaded)/1024), append(concHWM, float64(c.HWMLoaded)/1024)
		ratio = append(ratio, c.ReadyMS/s.ReadyMS)
		hwmRatio = append(hwmRatio, float64(c.HWMLoaded)/float64(s.HWMLoaded))
	}
	r.res.add(coldSection, Row{Metric: "server start, both towers one after the other: process start to loaded",
		Value: median(serialMS) / 1000, Unit: "s", Runs: len(serialMS), Note: fmt.Sprintf("peak RSS while loading %.0f MiB", median(serialHWM))})
	r.res.add(coldSection, Row{Metric: "server start, both towers at once (the module, `mclip serve`): process start to loaded",
		Value: median(concMS) / 1000, Unit: "s", Ratio: median(ratio), Ref: "one after the other (below 1: at once is faster)", Runs: len(concMS),
		Note: fmt.Sprintf("peak RSS while loading %.0f MiB, %.2f of one after the other's", median(concHWM), median(hwmRatio))})
	return nil
}
