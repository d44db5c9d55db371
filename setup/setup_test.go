// Package setup_test tests setup/check, the prerequisite check that `make
// setup` runs, and keeps setup/debian-packages in step with the cgo code.
package setup_test

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var cgoPkgConfig = regexp.MustCompile(`(?m)^#cgo\b[^:]*\bpkg-config:(.*)$`)

// cgoModules returns the pkg-config modules named by the #cgo lines of src.
func cgoModules(src string) []string {
	var out []string
	for _, m := range cgoPkgConfig.FindAllStringSubmatch(src, -1) {
		for _, f := range strings.Fields(m[1]) {
			if !strings.HasPrefix(f, "-") {
				out = append(out, f)
			}
		}
	}
	return out
}

// listedModules returns the pc: checks of a debian-packages list.
func listedModules(list string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		for _, f := range fields[min(1, len(fields)):] {
			if m, ok := strings.CutPrefix(f, "pc:"); ok {
				out[m] = true
			}
		}
	}
	return out
}

func TestCgoModules(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"/*\n#cgo pkg-config: libwebp libwebpdemux\n*/", []string{"libwebp", "libwebpdemux"}},
		{"/*\n#cgo linux pkg-config: --static libheif\n*/", []string{"libheif"}},
		{"/*\n#cgo LDFLAGS: -ldl\n*/", nil},
		{"// #cgo pkg-config: libtiff-4\n", nil}, // only the preamble's own lines count
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cgoModules(tt.src), tt.src)
	}
}

func TestListedModules(t *testing.T) {
	got := listedModules("# pc:commented\nlibwebp-dev pc:libwebp pc:libwebpdemux # pc:not\ngit cmd:git\npc:first-field-is-a-package\n")
	assert.Equal(t, map[string]bool{"libwebp": true, "libwebpdemux": true}, got)
}

// TestEveryCgoModuleIsListed: a pkg-config module used by the Go code but
// missing from setup/debian-packages would build here and fail on a fresh
// machine.
func TestEveryCgoModuleIsListed(t *testing.T) {
	list, err := os.ReadFile("debian-packages")
	require.NoError(t, err)
	listed := listedModules(string(list))
	used := map[string][]string{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "_build", "third_party", "node_modules", "bin", "testdata", ".cache":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cgoModules(string(src)) {
			used[m] = append(used[m], path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, used, "no #cgo pkg-config lines found: the walk is broken")
	var missing []string
	for m, files := range used {
		if !listed[m] {
			missing = append(missing, m+" (used in "+strings.Join(files, ", ")+")")
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "add these as pc:MODULE to the package that provides them in setup/debian-packages")
}

// world is a fake machine for setup/check: a PATH of stub commands, an
// os-release, a go.mod, a package list.
type world struct {
	dir, bin, installed, log string
}

func newWorld(t *testing.T, goVersion, osID string) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{dir: dir, bin: filepath.Join(dir, "bin"), installed: filepath.Join(dir, "installed"), log: filepath.Join(dir, "apt.log")}
	require.NoError(t, os.MkdirAll(w.bin, 0o755))
	require.NoError(t, os.MkdirAll(w.installed, 0o755))
	if goVersion != "" {
		w.stub(t, "go", `[ "$1 $2" = "env GOVERSION" ] && echo go`+goVersion)
	}
	// apt-get "installs" a package by creating the command mclip-fake-PKG.
	w.stub(t, "apt-get", `echo "$*" >>`+w.log+`
[ "$1" = install ] || exit 0
for p in "$@"; do case "$p" in -*|install) ;; broken-pkg) exit 100 ;; *) printf '#!/bin/sh\n' >`+w.installed+`/mclip-fake-$p; chmod +x `+w.installed+`/mclip-fake-$p ;; esac; done`)
	w.stub(t, "dpkg-query", `[ "$3" = listed-pkg ] && echo 'install ok installed'`)
	w.stub(t, "mclip-fake-present", "")
	w.write(t, "os-release", "ID="+osID+"\n")
	w.write(t, "go.mod", "module example.com/x\n\ngo 1.26.0\n")
	return w
}

func (w *world) stub(t *testing.T, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(w.bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

func (w *world) write(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o644))
}

func (w *world) run(t *testing.T, list, uid string) (string, int) {
	t.Helper()
	w.write(t, "packages", list)
	cmd := exec.Command("bash", "check")
	cmd.Env = []string{
		"PATH=" + w.bin + ":" + w.installed + ":/usr/bin:/bin",
		"MCLIP_SETUP_PACKAGES=" + filepath.Join(w.dir, "packages"),
		"MCLIP_SETUP_GOMOD=" + filepath.Join(w.dir, "go.mod"),
		"MCLIP_SETUP_OS_RELEASE=" + filepath.Join(w.dir, "os-release"),
		"MCLIP_SETUP_UID=" + uid,
		"PKG_CONFIG_PATH=" + w.dir,
		"PKG_CONFIG_LIBDIR=" + w.dir,
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), code
}

// noticeHeading is a section heading of NOTICE: "5. libtiff (linked by ...".
var noticeHeading = regexp.MustCompile(`(?m)^\d+\. (.*)$`)

// TestEveryLinkedLibraryIsCredited: each library the binaries link through
// pkg-config (a pc: check of setup/debian-packages) has its section in
// NOTICE, named by its pkg-config module without a version suffix.
func TestEveryLinkedLibraryIsCredited(t *testing.T) {
	list, err := os.ReadFile("debian-packages")
	require.NoError(t, err)
	notice, err := os.ReadFile(filepath.Join("..", "NOTICE"))
	require.NoError(t, err)
	var headings []string
	for _, m := range noticeHeading.FindAllStringSubmatch(string(notice), -1) {
		headings = append(headings, m[1])
	}
	require.NotEmpty(t, headings, "no numbered sections in NOTICE")
	modules := listedModules(string(list))
	require.NotEmpty(t, modules)
	for m := range modules {
		name := regexp.MustCompile(`-[0-9.]+$`).ReplaceAllString(m, "") // libtiff-4 is libtiff
		found := false
		for _, h := range headings {
			found = found || strings.Contains(h, name)
		}
		assert.True(t, found, "NOTICE has no section for %s (pkg-config module %s in setup/debian-packages)", name, m)
	}
}

func TestCheck(t *testing.T) {
	if _, err := exec.LookPath("pkg-config"); err != nil {
		t.Fatal("pkg-config is one of the prerequisites; run setup/check")
	}
	const pc = "Name: fakepc\nDescription: x\nVersion: 1\n"
	tests := []struct {
		name      string
		goVersion string
		osID      string
		uid       string
		list      string
		wantCode  int
		wantOut   []string // substrings of the output
		wantApt   string   // the apt-get calls, or "" for none
		wantNoOut bool
	}{
		{name: "all present", goVersion: "1.26.0", osID: "debian", uid: "1000",
			list:      "present cmd:mclip-fake-present # a comment\n\n# another\nlisted-pkg\nwithpc pc:fakepc file:/\n",
			wantNoOut: true},
		{name: "newer go", goVersion: "1.27.1", osID: "debian", uid: "1000",
			list: "present cmd:mclip-fake-present\n", wantNoOut: true},
		{name: "missing, not root: the command", goVersion: "1.26.0", osID: "debian", uid: "1000",
			list:     "present cmd:mclip-fake-present\na cmd:mclip-fake-a\nb pc:no-such-module\nunlisted-pkg\n",
			wantCode: 1, wantOut: []string{"missing: a b unlisted-pkg", "sudo apt-get install -y --no-install-recommends a b unlisted-pkg"}},
		{name: "missing, root on Debian: installed", goVersion: "1.26.0", osID: "debian", uid: "0",
			list:    "present cmd:mclip-fake-present\na cmd:mclip-fake-a\nb cmd:mclip-fake-b\n",
			wantOut: []string{"installing what is missing: apt-get install -y --no-install-recommends a b"},
			wantApt: "update -qq\ninstall -y -qq --no-install-recommends a b\n"},
		{name: "missing, root on Ubuntu: installed", goVersion: "1.26.0", osID: "ubuntu", uid: "0",
			list: "a cmd:mclip-fake-a\n", wantOut: []string{"installing"},
			wantApt: "update -qq\ninstall -y -qq --no-install-recommends a\n"},
		{name: "root, apt-get fails", goVersion: "1.26.0", osID: "debian", uid: "0",
			list: "broken-pkg cmd:mclip-fake-broken-pkg\n", wantCode: 1,
			wantOut: []string{"apt-get failed; run it yourself: apt-get install -y --no-install-recommends broken-pkg"},
			wantApt: "update -qq\ninstall -y -qq --no-install-recommends broken-pkg\n"},
		{name: "root, installed but the check still fails", goVersion: "1.26.0", osID: "debian", uid: "0",
			list: "a cmd:mclip-fake-not-what-a-installs\n", wantCode: 1,
			wantOut: []string{"still missing after apt-get: a"},
			wantApt: "update -qq\ninstall -y -qq --no-install-recommends a\n"},
		{name: "root elsewhere: no apt-get", goVersion: "1.26.0", osID: "fedora", uid: "0",
			list: "a cmd:mclip-fake-a\n", wantCode: 1,
			wantOut: []string{"missing: a", "on Debian or Ubuntu: apt-get install -y --no-install-recommends a; elsewhere"}},
		{name: "old go", goVersion: "1.25.7", osID: "debian", uid: "1000",
			list: "present cmd:mclip-fake-present\n", wantCode: 1,
			wantOut: []string{"Go 1.25.7 is older than go.mod's go 1.26.0", "https://go.dev/dl"}},
		{name: "no go", goVersion: "", osID: "debian", uid: "1000",
			list: "present cmd:mclip-fake-present\n", wantCode: 1,
			wantOut: []string{"Go 1.26.0 or newer is required"}},
		{name: "bad check", goVersion: "1.26.0", osID: "debian", uid: "1000",
			list: "a cmdx:foo\n", wantCode: 2, wantOut: []string{"unknown check 'cmdx:foo'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.goVersion, tt.osID)
			w.write(t, "fakepc.pc", pc)
			if tt.goVersion == "" {
				if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
					t.Skip("/usr/local/go/bin/go exists: the no-Go message differs")
				}
			}
			out, code := w.run(t, tt.list, tt.uid)
			assert.Equal(t, tt.wantCode, code, out)
			for _, s := range tt.wantOut {
				assert.Contains(t, out, s)
			}
			if tt.wantNoOut {
				assert.Empty(t, out)
			}
			apt, _ := os.ReadFile(w.log)
			assert.Equal(t, tt.wantApt, string(apt))
		})
	}
}

// TestRealList: the committed list passes on this machine (make test runs
// after make setup) and names every check kind correctly.
func TestRealList(t *testing.T) {
	out, err := exec.Command("bash", "check").CombinedOutput()
	assert.NoError(t, err, string(out))
}

// TestBenchList: the benchmark's list is a valid list: setup/check, not
// allowed to install (not root), either finds everything or names what is
// missing; it never finds the list itself wrong (exit 2).
func TestBenchList(t *testing.T) {
	cmd := exec.Command("bash", "check", "bench-packages")
	cmd.Env = append(os.Environ(), "MCLIP_SETUP_UID=1000")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		require.Equal(t, 1, exit.ExitCode(), string(out))
		assert.Contains(t, string(out), "missing: ")
		return
	}
	require.NoError(t, err, string(out))
}

func TestOrtPlatform(t *testing.T) {
	tests := []struct {
		machine, want string
		code          int
	}{
		{"x86_64", "x64\n", 0},
		{"amd64", "x64\n", 0},
		{"aarch64", "arm64\n", 0},
		{"arm64", "arm64\n", 0},
		{"riscv64", "", 1},
		{"armv7l", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.machine, func(t *testing.T) {
			cmd := exec.Command("bash", "ort-platform", tt.machine)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			assert.Equal(t, tt.code, code, stderr.String())
			assert.Equal(t, tt.want, string(out))
			if tt.code != 0 {
				assert.Contains(t, stderr.String(), "no ONNX Runtime build for "+tt.machine)
				assert.Contains(t, stderr.String(), "ONNXRUNTIME_LIB")
			}
		})
	}
	// without an argument: this machine
	out, err := exec.Command("bash", "ort-platform").Output()
	if err == nil {
		assert.Contains(t, []string{"x64\n", "arm64\n"}, string(out))
	}
}
