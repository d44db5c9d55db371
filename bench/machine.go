package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// Machine describes where the benchmarks ran.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	Flags     string `json:"simd"`
	MemTotal  string `json:"memTotal"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go"`
	ORT       string `json:"onnxruntime"`
	ORTLib    string `json:"onnxruntimeLib"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	LoadAvg   string `json:"loadAverageAtStart"`
}

// describeMachine reads the CPU model, core count, SIMD extensions and
// memory of this machine, with the Go and ONNX Runtime versions.
func describeMachine() Machine {
	m := Machine{
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		ORT:       ortlib.Version(),
		ORTLib:    ortlib.Path(),
		Date:      time.Now().UTC().Format(time.RFC3339),
	}
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model name" {
				m.CPU = strings.TrimSpace(v)
			}
		}
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if m.CPU == "" {
					m.CPU = strings.TrimSpace(v)
				}
			case "flags":
				if m.Flags == "" {
					m.Flags = simdFlags(v)
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		_, v, _ := strings.Cut(line, ":")
		m.MemTotal = strings.TrimSpace(v)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// simdFlags keeps the vector extensions ONNX Runtime's kernels dispatch on.
func simdFlags(flags string) string {
	keep := map[string]bool{"avx": true, "avx2": true, "fma": true, "f16c": true, "avx512f": true, "avx512bw": true,
		"avx512vl": true, "avx512_vnni": true, "avx_vnni": true, "avx512_bf16": true, "avx512_fp16": true, "amx_int8": true, "amx_bf16": true}
	var out []string
	for _, f := range strings.Fields(flags) {
		if keep[f] {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}
