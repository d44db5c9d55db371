package ortlib

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
)

// childEnv makes the test binary, re-executed, call Init once and print the
// result: Init works once per process.
const childEnv = "MCLIP_ORTLIB_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := Init(""); err != nil {
			os.Stdout.WriteString("ERR " + err.Error())
			os.Exit(3)
		}
		os.Stdout.WriteString("OK " + Version())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func initInChild(t *testing.T, env ...string) (string, int) {
	t.Helper()
	return initInChildAt(t, "", env...)
}

// initInChildAt runs the child in dir ("" for this one): outside the module,
// no project copy of the library is in reach.
func initInChildAt(t *testing.T, dir string, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, childEnv+"=1")...)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), code
}

// fakeOldRuntime builds a shared library that looks like ONNX Runtime 1.10:
// it exports OrtGetApiBase, whose GetApi refuses API version 24.
func fakeOldRuntime(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler to build a fake library")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "fake.c")
	require.NoError(t, os.WriteFile(src, []byte(`
#include <stddef.h>
typedef struct { const void *(*GetApi)(unsigned int); const char *(*GetVersionString)(void); } OrtApiBase;
static const void *get_api(unsigned int v) { return v <= 10 ? (const void *)1 : NULL; }
static const char *version(void) { return "1.10.0"; }
static OrtApiBase base = {get_api, version};
const OrtApiBase *OrtGetApiBase(void) { return &base; }
`), 0o644))
	lib := filepath.Join(dir, "libonnxruntime.so.1")
	out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput()
	require.NoError(t, err, string(out))
	return lib
}

func TestInitErrors(t *testing.T) {
	notALib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	require.NoError(t, os.WriteFile(notALib, []byte("not an ELF file"), 0o644))
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"missing file", []string{config.EnvORTLib + "=/nonexistent/libonnxruntime.so.1"}, []string{"/nonexistent/libonnxruntime.so.1", "make ort", config.EnvORTLib}},
		{"not a library", []string{config.EnvORTLib + "=" + notALib}, []string{notALib, "make ort"}},
		{"too old", []string{config.EnvORTLib + "=" + fakeOldRuntime(t)}, []string{"version 1.10.0, older than the required " + MinVersion, "make ort"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := initInChild(t, tt.env...)
			assert.Equal(t, 3, code, "a clear error, not a crash: %s", out)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

func TestInitFindsProvisionedLibrary(t *testing.T) {
	if _, err := Locate(""); err != nil {
		t.Skipf("no provisioned library (run `make ort`): %v", err)
	}
	out, code := initInChild(t, config.EnvORTLib+"=")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "OK 1.")
}

func TestAtLeast(t *testing.T) {
	tests := []struct {
		v, min string
		want   bool
	}{
		{"1.27.0", "1.24.0", true},
		{"1.24.0", "1.24.0", true},
		{"1.23.2", "1.24.0", false},
		{"2.0.0", "1.24.0", true},
		{"1.30.1-dev", "1.24.0", true},
		{"garbage", "1.24.0", false},
		{"", "1.24.0", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, AtLeast(tt.v, tt.min), "%s >= %s", tt.v, tt.min)
	}
}

func TestProbe(t *testing.T) {
	notALib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	require.NoError(t, os.WriteFile(notALib, []byte("not an ELF file"), 0o644))
	old := fakeOldRuntime(t)
	tests := []struct {
		name        string
		env         string
		wantVersion string
		wantErr     string
	}{
		{"a library: its version, nothing initialised", old, "1.10.0", ""},
		{"not a library", notALib, "", "make ort"},
		{"missing", "/nonexistent/libonnxruntime.so.1", "", "/nonexistent/libonnxruntime.so.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(config.EnvORTLib, tt.env)
			_, v, err := Probe()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantVersion, v)
		})
	}
}

// TestSystemLibrary: with no project copy (the child runs outside the
// module), the library the dynamic loader finds is used; ONNXRUNTIME_LIB
// still comes first.
func TestSystemLibrary(t *testing.T) {
	project, err := Locate("")
	if err != nil {
		t.Skipf("no provisioned library (run `make ort`): %v", err)
	}
	outside := t.TempDir()
	oldDir := filepath.Dir(fakeOldRuntime(t))
	tests := []struct {
		name string
		env  []string
		code int
		want string
	}{
		{"found by the loader", []string{"LD_LIBRARY_PATH=" + filepath.Dir(project), config.EnvORTLib + "="}, 0, "OK 1."},
		{"the loader's copy is checked like any other", []string{"LD_LIBRARY_PATH=" + oldDir, config.EnvORTLib + "="}, 3,
			"onnx runtime at " + filepath.Join(oldDir, LibName) + " is version 1.10.0"},
		{"the environment comes first", []string{"LD_LIBRARY_PATH=" + oldDir, config.EnvORTLib + "=" + project}, 0, "OK 1."},
		{"nowhere: the fix", []string{"LD_LIBRARY_PATH=" + outside, config.EnvORTLib + "="}, 3, "and the dynamic loader's path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == 3 && tt.want == "and the dynamic loader's path" {
				if p, err := systemLibrary(LibName); err == nil {
					t.Skipf("a system-wide ONNX Runtime is installed at %s", p)
				}
			}
			out, code := initInChildAt(t, outside, tt.env...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
		})
	}
}
