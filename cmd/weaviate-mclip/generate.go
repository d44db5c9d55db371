package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// WeaviateModule is the Go module the server is built from.
const WeaviateModule = "github.com/weaviate/weaviate"

// Paths inside the weaviate copy.
const (
	configureAPI  = "adapters/handlers/rest/configure_api.go"
	generatedFile = "adapters/handlers/rest/zz_generated_mclip_modules.go"
	stampFile     = ".mclip-copy"
)

// upstreamFunc is the name registerModules is renamed to.
const upstreamFunc = "registerUpstreamModules"

var registerModulesDecl = regexp.MustCompile(`(?m)^func registerModules\(`)

// generator lays out OUT/weaviate, the generated file and OUT/go.mod.
type generator struct {
	root, out string
	// download returns the module cache directory of weaviate at a version.
	download func(version string) (string, error)
}

func (g generator) outDir() string {
	if filepath.IsAbs(g.out) {
		return g.out
	}
	return filepath.Join(g.root, g.out)
}

// run brings the build directory up to date and returns what it wrote.
func (g generator) run() ([]string, error) {
	gomod, err := os.ReadFile(filepath.Join(g.root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("read go.mod: %w", err)
	}
	version, err := requiredVersion(gomod, WeaviateModule)
	if err != nil {
		return nil, err
	}
	out := g.outDir()
	copyDir := filepath.Join(out, "weaviate")
	var changed []string

	stamp := "weaviate " + version + "\npatch " + patchID() + "\n"
	if have, _ := os.ReadFile(filepath.Join(copyDir, stampFile)); string(have) != stamp {
		src, err := g.download(version)
		if err != nil {
			return nil, err
		}
		if err := os.RemoveAll(copyDir); err != nil {
			return nil, fmt.Errorf("remove old copy: %w", err)
		}
		if err := copyTree(src, copyDir); err != nil {
			return nil, fmt.Errorf("copy %s@%s: %w", WeaviateModule, version, err)
		}
		if err := renameRegisterModules(filepath.Join(copyDir, filepath.FromSlash(configureAPI))); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(copyDir, stampFile), []byte(stamp), 0o644); err != nil {
			return nil, err
		}
		changed = append(changed, copyDir)
	}

	writes := []struct {
		path    string
		content []byte
	}{
		{filepath.Join(copyDir, filepath.FromSlash(generatedFile)), []byte(registerSource)},
	}
	// The build's go.mod is ours plus the replace; `go build -mod=mod`
	// may add requirements to it, so it is rewritten only when ours changed.
	base := buildGoMod(gomod, "./"+filepath.ToSlash(filepath.Join(g.out, "weaviate")))
	if have, _ := os.ReadFile(filepath.Join(out, "go.mod.base")); !bytes.Equal(have, base) {
		writes = append(writes,
			struct {
				path    string
				content []byte
			}{filepath.Join(out, "go.mod"), base},
			struct {
				path    string
				content []byte
			}{filepath.Join(out, "go.mod.base"), base})
	}
	sum, err := mergedGoSum(filepath.Join(g.root, "go.sum"), filepath.Join(out, "go.sum"))
	if err != nil {
		return nil, err
	}
	writes = append(writes, struct {
		path    string
		content []byte
	}{filepath.Join(out, "go.sum"), sum})

	for _, w := range writes {
		wrote, err := writeIfChanged(w.path, w.content)
		if err != nil {
			return nil, err
		}
		if wrote {
			changed = append(changed, w.path)
		}
	}
	return changed, nil
}

// goModDownload downloads (if needed) the module and returns its directory
// in the module cache.
func goModDownload(goCmd, root, version string) (string, error) {
	cmd := exec.Command(goCmd, "mod", "download", "-json", WeaviateModule+"@"+version)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", WeaviateModule, version, err, strings.TrimSpace(stderr.String()))
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(outb, &info); err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", WeaviateModule, version, info.Error)
	}
	return info.Dir, nil
}

// requiredVersion finds a module's version in go.mod's require lines.
func requiredVersion(gomod []byte, module string) (string, error) {
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`)
	m := re.FindSubmatch(gomod)
	if m == nil {
		return "", fmt.Errorf("go.mod does not require %s", module)
	}
	return string(m[1]), nil
}

// buildGoMod is go.mod with the weaviate module replaced by the copy.
func buildGoMod(gomod []byte, copyPath string) []byte {
	var b bytes.Buffer
	b.Write(bytes.TrimRight(gomod, "\n"))
	fmt.Fprintf(&b, "\n\n// Added by cmd/weaviate-mclip: the patched copy with multi2vec-mclip registered.\nreplace %s => %s\n",
		WeaviateModule, copyPath)
	return b.Bytes()
}

// mergedGoSum is the union of our go.sum and the build's, sorted, so that
// sums the build added survive and new ones of ours come in.
func mergedGoSum(ours, build string) ([]byte, error) {
	seen := map[string]bool{}
	var lines []string
	for _, p := range []string{ours, build} {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !seen[l] {
				seen[l] = true
				lines = append(lines, l)
			}
		}
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// renameRegisterModules renames the upstream registerModules; anything but
// exactly one declaration means upstream changed and fails loudly.
func renameRegisterModules(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n := len(registerModulesDecl.FindAllIndex(src, -1)); n != 1 {
		return fmt.Errorf("%s: want exactly one `func registerModules(`, found %d: upstream changed, update cmd/weaviate-mclip", path, n)
	}
	patched := registerModulesDecl.ReplaceAll(src, []byte("func "+upstreamFunc+"("))
	return os.WriteFile(path, patched, 0o644)
}

// patchID changes when the patch does, so that a new generator redoes the
// copy.
func patchID() string {
	h := sha256.Sum256([]byte(registerModulesDecl.String() + upstreamFunc + generatedFile))
	return hex.EncodeToString(h[:8])
}

func writeIfChanged(path string, content []byte) (bool, error) {
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, content) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	return true, os.WriteFile(path, content, 0o644)
}

// copyTree copies a read-only module cache directory into a writable one.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
