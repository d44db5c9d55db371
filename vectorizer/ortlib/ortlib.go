// Package ortlib finds, loads and initialises the ONNX Runtime shared library
// once per process.
//
// The library is looked up, in order, at ONNXRUNTIME_LIB, at the path baked in
// at build time (the Makefile sets DefaultPath with -ldflags), beside the
// running executable (../third_party/onnxruntime and ./), and in
// third_party/onnxruntime of the nearest enclosing Go module of the working
// directory (so `go test` finds what `make ort` provisioned), and last as
// libonnxruntime.so.1 wherever the dynamic loader finds it (a system-wide
// ONNX Runtime: LD_LIBRARY_PATH, ld.so.cache, /usr/lib).
package ortlib

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/config"
)

// LibName is the file name of the ONNX Runtime shared library on Linux.
const LibName = "libonnxruntime.so.1"

// relDir is where `make ort` puts the library, relative to the repository.
const relDir = "third_party/onnxruntime"

// MinVersion is the oldest ONNX Runtime release whose C API (version 24)
// onnxruntime_go v1.27.0 can use.
const MinVersion = "1.24.0"

// DefaultPath is set at link time by the Makefile to the absolute path of the
// provisioned library.
var DefaultPath = ""

// FixHint tells a user how to get a working library.
const FixHint = "run `make ort` in the mclip checkout, or set " + config.EnvORTLib +
	" to the path of libonnxruntime.so (ONNX Runtime " + MinVersion + " or newer)"

var (
	initOnce sync.Once
	initErr  error
	usedPath string
)

// Init loads and initialises ONNX Runtime once. The path argument, when not
// empty, takes precedence over every other source. Later calls return the
// first call's result.
func Init(path string) error {
	initOnce.Do(func() {
		usedPath, initErr = initialise(path)
	})
	return initErr
}

// Path returns the library path that Init loaded, or "" before Init.
func Path() string { return usedPath }

// Version returns the loaded ONNX Runtime version, or "" before Init.
func Version() string {
	if !ort.IsInitialized() {
		return ""
	}
	return ort.GetVersion()
}

func initialise(explicit string) (string, error) {
	path, err := Locate(explicit)
	if err != nil {
		return "", err
	}
	v, err := probeVersion(path)
	if err != nil {
		return path, fmt.Errorf("load onnx runtime from %s: %w; %s", path, err, FixHint)
	}
	if !AtLeast(v, MinVersion) {
		return path, fmt.Errorf("onnx runtime at %s is version %s, older than the required %s: %s", path, v, MinVersion, FixHint)
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return path, fmt.Errorf("initialise onnx runtime %s from %s: %w; %s", v, path, err, FixHint)
	}
	return path, nil
}

// Locate returns the first existing library path among the candidates, or an
// error listing every place it looked.
func Locate(explicit string) (string, error) {
	if explicit != "" {
		return checkFile(explicit, "the configured path")
	}
	// The one variable read outside package config: Locate serves callers
	// without settings too (`mclip version`, the benchmarks, tests); the
	// runtime passes config's value as explicit.
	if p := os.Getenv(config.EnvORTLib); p != "" {
		return checkFile(p, config.EnvORTLib)
	}
	candidates := Candidates()
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	if p, err := systemLibrary(LibName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("onnx runtime library %s not found (looked in %s, and the dynamic loader's path): %s", LibName, strings.Join(candidates, ", "), FixHint)
}

func checkFile(p, source string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("onnx runtime library from %s: %w: %s", source, err, FixHint)
	}
	if st.IsDir() {
		p = filepath.Join(p, LibName)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("onnx runtime library from %s: %w: %s", source, err, FixHint)
		}
	}
	return p, nil
}

// Candidates lists the default places the library is looked for, in order.
func Candidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if p == "" || seen[p] {
			return
		}
		seen[p] = true
		out = append(out, p)
	}
	add(DefaultPath)
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dir := filepath.Dir(exe)
		add(filepath.Join(dir, "..", relDir, LibName))
		add(filepath.Join(dir, LibName))
	}
	if wd, err := os.Getwd(); err == nil {
		if root, err := moduleRoot(wd); err == nil {
			add(filepath.Join(root, relDir, LibName))
		}
	}
	return out
}

// moduleRoot walks up from dir to the nearest directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// AtLeast reports whether dotted version v is at least min. Unparsable
// versions compare as too old.
func AtLeast(v, min string) bool {
	a, okA := parseVersion(v)
	b, okB := parseVersion(min)
	if !okA || !okB {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return out, false
	}
	for i, p := range parts {
		// tolerate suffixes such as "1.24.0-dev"
		end := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' })
		if end == 0 {
			return out, false
		}
		if end > 0 {
			p = p[:end]
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// Probe finds the library as Init would and reads its version without
// initialising ONNX Runtime (for `mclip version`). After Init it reports the
// loaded library.
func Probe() (path, version string, err error) {
	if ort.IsInitialized() {
		return usedPath, ort.GetVersion(), nil
	}
	path, err = Locate("")
	if err != nil {
		return "", "", err
	}
	version, err = probeVersion(path)
	if err != nil {
		return path, "", fmt.Errorf("load onnx runtime from %s: %w; %s", path, err, FixHint)
	}
	return path, version, nil
}
