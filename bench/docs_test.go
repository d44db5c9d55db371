package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README and docs/performance.md quote the committed results; these
// tests keep every quoted figure equal to the results it comes from, so
// that a new run (or a -redraw) that changes a figure fails until the
// pages are updated with it.

// committed are the results the pages quote.
type committed struct{ main, photos *Results }

func loadResults(t *testing.T, dir string) *Results {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var r Results
	require.NoError(t, json.Unmarshal(b, &r))
	return &r
}

// row returns the row of section whose metric is metric.
func row(t *testing.T, r *Results, section, metric string) Row {
	t.Helper()
	for _, s := range r.Sections {
		if s.Title != section {
			continue
		}
		for _, w := range s.Rows {
			if w.Metric == metric {
				return w
			}
		}
	}
	require.Failf(t, "no such row", "%s: %s", section, metric)
	return Row{}
}

// noteNumber returns the number after prefix in a row's note.
func noteNumber(t *testing.T, w Row, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `([0-9.]+)`).FindStringSubmatch(w.Note)
	require.NotNil(t, m, "%q in the note of %q", prefix, w.Metric)
	return m[1]
}

const (
	secText   = "Text tower (fp32)"
	secImage  = "Image tower (fp32)"
	secInt8   = "int8 against fp32"
	secMemory = "Memory and start-up"
	secServe  = "mclip serve: concurrent single-object requests"
	secImport = "Weaviate import"
	secPhotos = "Real photos (fp32, bench/photos corpus)"
	secCold   = "Cold start (fp32)"
)

// quotedFigures maps a table row's label, as the pages write it, to the
// cell the results give it.
func quotedFigures(t *testing.T, c committed) map[string]string {
	ratio := func(r *Results, section, metric, format string) string {
		return fmt.Sprintf(format, row(t, r, section, metric).Ratio)
	}
	embed := func(metric string) string {
		w := row(t, c.photos, secCold, metric)
		return fmt.Sprintf("%.2f s (%s MiB)", w.Value, noteNumber(t, w, "peak RSS "))
	}
	lowestCosine := func() string {
		text := noteNumber(t, row(t, c.main, secInt8, "int8 quality, text vectors: mean cosine to fp32"), "lowest ")
		image := noteNumber(t, row(t, c.main, secInt8, "int8 quality, image vectors: mean cosine to fp32"), "lowest ")
		return min(text, image)
	}
	return map[string]string{
		"image inference, batch 32, of the MatMul ceiling":      ratio(c.main, secImage, "inference alone, batch 32", "%.2f"),
		"end to end from 640x480 JPEG, of inference alone":      ratio(c.main, secImage, "end to end from 640x480 JPEG bytes, batch 32", "%.2f"),
		"text, batch 32, short texts, of the ceiling":           ratio(c.main, secText, "short texts (13.1 tokens), batch 32", "%.2f"),
		"single short query p50, of the bare model call":        ratio(c.main, secText, "single short query (12 tokens), p50", "%.2f"),
		"RSS with both fp32 models loaded, of their file sizes": ratio(c.main, secMemory, "fp32, both: RSS after loading", "%.2f"),
		"4000x3000 JPEG decode + preprocess, Pillow's time / ours (one thread each)": ratio(c.main, secImage,
			"decode + preprocess alone, 4000x3000 JPEG, one goroutine", "%.2f"),
		"int8 speed-up over fp32, text / images": ratio(c.main, secInt8, "int8 speed-up, text, batch 32 medium", "%.2fx") +
			" / " + ratio(c.main, secInt8, "int8 speed-up, images, batch 32", "%.2fx"),
		"int8 vectors' cosine to fp32 (generated model), lowest": lowestCosine(),
		"`mclip serve`, 64 concurrent single-text requests, of one request of 64": ratio(c.main, secServe,
			"64 short texts: singles, cross-request batching (default)", "%.2f") + " (" +
			ratio(c.main, secServe, "64 short texts: singles, per request (as the Python container)", "%.2f") +
			" without cross-request batching)",
		"Weaviate import, 2,000 objects (title + 640x480 JPEG), `weaviate-mclip`, of the in-process vectorizer": ratio(c.main, secImport,
			"weaviate-mclip import, 2000 objects (title of 41 tokens + 640x480 JPEG)", "%.2f"),
		"the same through stock Weaviate + `mclip serve`": ratio(c.main, secImport,
			"stock Weaviate + mclip serve import, 2000 objects (title of 41 tokens + 640x480 JPEG)", "%.2f"),

		"all 41 files end to end, of inference alone": ratio(c.photos, secPhotos, "end to end from file bytes, all (41 files, 173.6 MP)", "%.3f"),
		"all 41 files end to end, PyTorch + Pillow's time / ours": ratio(c.photos, secPhotos,
			"vs PyTorch + Pillow (the Python container's way), all (41 files, 173.6 MP)", "%.3f"),
		"decode + preprocess, 5120x2880 JPEG, Pillow's time / ours (one thread each)": ratio(c.photos, secPhotos,
			"decode + preprocess alone, jpeg RGB 5120x2880, one goroutine", "%.3f"),
		"the same, 5120x2880 PNG":  ratio(c.photos, secPhotos, "decode + preprocess alone, png RGB 5120x2880, one goroutine", "%.3f"),
		"the same, 4096x4096 WebP": ratio(c.photos, secPhotos, "decode + preprocess alone, webp RGB 4096x4096, one goroutine", "%.3f"),
		"`mclip embed` of one text, process start to vector printed (peak RSS)": embed("`mclip embed` of one text: process start to vectors printed"),
		"`mclip embed` of one 640x480 JPEG":                                     embed("`mclip embed` of one 640x480 JPEG: process start to vectors printed"),
		"`mclip embed` of a text and a JPEG":                                    embed("`mclip embed` of one text and one JPEG: process start to vectors printed"),
		"a server's two towers loaded at once, of one after the other": ratio(c.photos, secCold,
			"server start, both towers at once (the module, `mclip serve`): process start to loaded", "%.3f"),
	}
}

// tableRows returns the label and first value cell of each table row in md
// (the header row included, separator rows not; callers look labels up).
func tableRows(md string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 2 {
			continue
		}
		out = append(out, [2]string{strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])})
	}
	return out
}

// section returns the part of md from the heading to the next heading of
// the same level.
func section(md, heading string) string {
	i := strings.Index(md, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := md[i+len(heading)+1:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if j := strings.Index(rest, "\n"+level); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func committedResults(t *testing.T) committed {
	return committed{main: loadResults(t, "results"), photos: loadResults(t, filepath.Join("results", "photos"))}
}

func TestPerformancePageQuotesTheResults(t *testing.T) {
	want := quotedFigures(t, committedResults(t))
	page := section(readPage(t, filepath.Join("..", "docs", "performance.md")), "## Current figures")
	require.NotEmpty(t, page, "docs/performance.md has a Current figures section")
	seen := map[string]bool{}
	for _, r := range tableRows(page) {
		if w, ok := want[r[0]]; ok {
			seen[r[0]] = true
			assert.Equal(t, w, r[1], "docs/performance.md: %s", r[0])
		}
	}
	for label := range want {
		assert.True(t, seen[label], "docs/performance.md quotes no row %q", label)
	}
}

func TestReadmeQuotesTheResults(t *testing.T) {
	want := quotedFigures(t, committedResults(t))
	page := section(readPage(t, filepath.Join("..", "README.md")), "## Performance")
	rows := 0
	for _, r := range tableRows(page) {
		if r[0] == "" {
			continue // the header
		}
		rows++
		w, ok := want[r[0]]
		if assert.True(t, ok, "README.md's performance row %q is not one docs/performance.md quotes", r[0]) {
			assert.Equal(t, w, r[1], "README.md: %s", r[0])
		}
	}
	assert.NotZero(t, rows, "README.md has a performance table")
}

func TestTableRows(t *testing.T) {
	md := "text\n| | measured | target |\n|---|---:|---|\n| a, b | 0.92 | ≥ 0.75 |\n| c | 1 (2) |\n"
	assert.Equal(t, [][2]string{{"", "measured"}, {"a, b", "0.92"}, {"c", "1 (2)"}}, tableRows(md))
}
