// Package docs holds mclip's documentation pages; its test checks that the
// relative links of every Markdown file in the repository resolve.
package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// skipDirs are directories whose Markdown is not ours or not committed:
// build output, downloaded libraries, caches, test inputs.
var skipDirs = map[string]bool{
	"_build": true, "third_party": true, "node_modules": true, "testdata": true,
	"bin": true, "data": true, "models": true,
}

// markdownFiles returns the Markdown files under dir, skipping hidden
// directories and skipDirs.
func markdownFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

var (
	fence      = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```[^\\n]*$")
	inlineCode = regexp.MustCompile("`[^`\\n]*`")
	link       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading    = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// stripCode removes fenced blocks and inline code, where brackets are not
// links.
func stripCode(md string) string {
	return inlineCode.ReplaceAllString(fence.ReplaceAllString(md, ""), "")
}

// links returns the link targets of a Markdown text.
func links(md string) []string {
	var out []string
	for _, m := range link.FindAllStringSubmatch(stripCode(md), -1) {
		out = append(out, m[1])
	}
	return out
}

// slug is GitHub's anchor for a heading: lower case, punctuation dropped
// (letters, digits, spaces, '-' and '_' kept), spaces turned into '-'.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns the anchors of a Markdown text's headings; a repeated
// heading gets -1, -2, ... as on GitHub.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(md, ""), -1) {
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// checkLink returns why a relative link from file does not resolve, or "".
func checkLink(file, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	path, frag, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
		if _, err := os.Stat(dest); err != nil {
			return "no such file " + dest
		}
	}
	if frag == "" || !strings.HasSuffix(dest, ".md") {
		return ""
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		return err.Error()
	}
	if !anchors(string(b))[frag] {
		return "no heading with anchor #" + frag + " in " + dest
	}
	return ""
}

func TestRelativeLinksResolve(t *testing.T) {
	files := markdownFiles(t, root)
	require.Contains(t, files, filepath.Join(root, "README.md"))
	require.Contains(t, files, filepath.Join(root, "docs", "configuration.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, l := range links(string(b)) {
			assert.Empty(t, checkLink(f, l), "%s: link %s", f, l)
		}
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"The two commands", "the-two-commands"},
		{"(c) Keep the data: weaviate-mclip serving multi2vec-clip (MCLIP_REPLACE_MULTI2VEC_CLIP)",
			"c-keep-the-data-weaviate-mclip-serving-multi2vec-clip-mclip_replace_multi2vec_clip"},
		{"(a) Stock Weaviate with `mclip serve` as `CLIP_INFERENCE_API`", "a-stock-weaviate-with-mclip-serve-as-clip_inference_api"},
		{"Images: Pillow and CLIPImageProcessor", "images-pillow-and-clipimageprocessor"},
	} {
		assert.Equal(t, tc.want, slug(tc.heading), tc.heading)
	}
}

func TestCheckLink(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "page.md")
	require.NoError(t, os.WriteFile(page, []byte("# Title\n\n## A section\n\n```\n## not a heading\n```\n\n## A section\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.txt"), nil, 0o644))
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{"page.md", true},
		{"other.txt", true},
		{"missing.md", false},
		{"page.md#a-section", true},
		{"page.md#a-section-1", true},
		{"#title", true},
		{"#not-a-heading", false},
		{"page.md#nowhere", false},
		{"https://example.com/x#y", true},
	} {
		got := checkLink(page, tc.target)
		if tc.ok {
			assert.Empty(t, got, tc.target)
		} else {
			assert.NotEmpty(t, got, tc.target)
		}
	}
}

func TestLinksSkipCode(t *testing.T) {
	md := "[a](x.md) `[b](y.md)`\n\n```\n[c](z.md)\n```\n[d](w.md#h)"
	assert.Equal(t, []string{"x.md", "w.md#h"}, links(md))
}
