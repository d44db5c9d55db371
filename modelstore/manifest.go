package modelstore

import (
	"fmt"
	"path"
	"strings"

	"github.com/mclip-go/mclip/catalog"
)

// Hub repositories of the default model's two towers (the catalog's
// default entry names the same). Their default revision is "main": the
// lock file (see lock.go) pins the commit and the sha256 of every file the
// first time they are pulled.
const (
	TextRepo        = "sentence-transformers/clip-ViT-B-32-multilingual-v1"
	VisionRepo      = "Xenova/clip-vit-base-patch32"
	DefaultRevision = "main"
)

// Source is one hub repository at a revision, feeding one tower directory.
type Source struct {
	Repo     string // "owner/name"
	Revision string // branch, tag or commit
	Tower    string // TextDir or VisionDir
}

// File is one file to fetch: Path is relative to the repository root and, in
// the model directory, to the tower directory.
type File struct {
	Source
	Path string
}

// Rel is the file's path relative to MODEL_DIR ("text/onnx/model.onnx").
func (f File) Rel() string { return f.Tower + "/" + f.Path }

// Manifest is the list of files a variant needs.
type Manifest struct {
	Variant Variant // resolved: fp32, int8 or fp16
	Files   []File
}

// Rels returns the MODEL_DIR-relative paths of the manifest's files.
func (m Manifest) Rels() []string {
	out := make([]string, len(m.Files))
	for i, f := range m.Files {
		out[i] = f.Rel()
	}
	return out
}

// Validate checks every path of the manifest: relative, slash-separated, no
// "." or ".." element, so nothing can land outside the model directory.
func (m Manifest) Validate() error {
	seen := map[string]bool{}
	for _, f := range m.Files {
		if f.Tower != TextDir && f.Tower != VisionDir {
			return fmt.Errorf("manifest: %s: unknown tower %q", f.Path, f.Tower)
		}
		if err := checkRepo(f.Repo); err != nil {
			return fmt.Errorf("manifest: %s: %w", f.Path, err)
		}
		if err := checkRevision(f.Revision); err != nil {
			return fmt.Errorf("manifest: %s: %w", f.Path, err)
		}
		if err := CheckRelPath(f.Path); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if seen[f.Rel()] {
			return fmt.Errorf("manifest: %s listed twice", f.Rel())
		}
		seen[f.Rel()] = true
	}
	return nil
}

// Revisions selects the revisions of the two repositories; empty means
// DefaultRevision.
type Revisions struct {
	Text, Vision string
}

func (r Revisions) text() string   { return orDefault(r.Text, DefaultRevision) }
func (r Revisions) vision() string { return orDefault(r.Vision, DefaultRevision) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ManifestFor returns the files of a variant of the default model.
// VariantAuto is resolved for the CPU first (see ResolveVariant). The int8
// text graph is the one exported for the CPU's instruction set; the text
// repository publishes no fp16 graph (model_O4.onnx is fp16 for GPUs only),
// so fp16 uses the fp32 text graph and the fp16 vision graph.
func ManifestFor(v Variant, c CPU, rev Revisions) (Manifest, error) {
	return ManifestForModel(defaultModel(), v, c, rev)
}

// ManifestForModel returns the files of a variant of a catalog model: each
// tower's required files and the graph the hub publishes for the variant
// (where several int8 graphs are published, the one exported for the CPU).
func ManifestForModel(model catalog.Model, v Variant, c CPU, rev Revisions) (Manifest, error) {
	v, err := checkVariant(v)
	if err != nil {
		return Manifest{}, err
	}
	rv, _ := ResolveVariant(v, c)
	m := Manifest{Variant: rv}
	for _, t := range []struct {
		files catalog.Files
		src   Source
	}{
		{model.Text.Files, Source{Repo: model.Text.Repo, Revision: rev.text(), Tower: TextDir}},
		{model.Vision.Files, Source{Repo: model.Vision.Repo, Revision: rev.vision(), Tower: VisionDir}},
	} {
		for _, p := range t.files.Required {
			m.Files = append(m.Files, File{Source: t.src, Path: p})
		}
		if t.files.Weights != "" {
			// No ONNX export: the graphs are built from the weights
			// (BuildGraphs), for every variant.
			m.Files = append(m.Files, File{Source: t.src, Path: t.files.Weights})
			continue
		}
		g, err := pulledGraph(t.files.Graphs, rv, c)
		if err != nil {
			return Manifest{}, fmt.Errorf("model %s, %s tower: %w", model.Tag, t.src.Tower, err)
		}
		m.Files = append(m.Files, File{Source: t.src, Path: g})
	}
	return m, m.Validate()
}

// pulledGraph is the graph a resolved variant pulls: the first published
// candidate, or among several int8 graphs the one exported for the CPU.
func pulledGraph(g catalog.Graphs, v Variant, c CPU) (string, error) {
	pub := g.Published(string(v))
	if len(pub) == 0 {
		return "", fmt.Errorf("no %s graph is published", v)
	}
	if v == VariantInt8 && len(pub) > 1 {
		want := c.Int8TextGraph()
		for _, p := range pub {
			if p == want {
				return p, nil
			}
		}
	}
	return pub[0], nil
}

func checkVariant(v Variant) (Variant, error) {
	pv, err := ParseVariant(string(v))
	if err != nil {
		return "", err
	}
	return pv, nil
}

// CheckRelPath rejects a path that could leave the directory it is joined
// to: empty, absolute, with a backslash, a NUL, or a ".", ".." or empty
// element.
func CheckRelPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':') {
		return fmt.Errorf("path %q: must be relative and slash-separated", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("path %q: must not contain empty, \".\" or \"..\" elements", p)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("path %q: not clean", p)
	}
	return nil
}

func checkRepo(repo string) error {
	parts := strings.Split(repo, "/")
	if len(parts) != 2 {
		return fmt.Errorf("repository %q: want owner/name", repo)
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "\\?#%\x00 ") {
			return fmt.Errorf("repository %q: want owner/name", repo)
		}
	}
	return nil
}

func checkRevision(rev string) error {
	if rev == "" || strings.ContainsAny(rev, "\\?#%\x00 ") || strings.Contains(rev, "..") || strings.HasPrefix(rev, "/") {
		return fmt.Errorf("revision %q: not a branch, tag or commit", rev)
	}
	return nil
}
