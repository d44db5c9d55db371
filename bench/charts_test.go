package bench

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// TestChartLabelsDoNotOverlap renders charts with short and long labels:
// long ones must make the bars lie down (labels one per row), short ones
// keep standing bars, and either way the image is written.
func TestChartLabelsDoNotOverlap(t *testing.T) {
	long := []string{"opt extended", "force_spinning_stop=0: threads also spin between calls",
		"no optimized-graph cache: optimized at each start, no fusion", "1 intra-op thread"}
	tests := []struct {
		name   string
		labels []string
		lying  bool
	}{
		{"batch sizes", []string{"batch 1", "batch 8", "batch 32"}, false},
		{"one long label among short ones", long, true},
		{"many short labels", strings.Fields("a b c d e f g h i j k l m n o p"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Chart{File: "c.png", Title: "a chart", YLabel: "ratio", Labels: tt.labels,
				Lines: []HLine{{Name: "target", Value: 1}}}
			for s := 0; s < 3; s++ {
				v := make([]float64, len(tt.labels))
				for i := range v {
					v[i] = float64(i+s) / 4
				}
				c.Series = append(c.Series, Series{Name: "series", Values: v})
			}
			assert.Equal(t, tt.lying, c.horizontal(plot.New()))
			if !tt.lying { // standing: every label fits its group
				p := plot.New()
				room := (c.width() - 2*vg.Inch) / vg.Length(len(tt.labels))
				for _, l := range tt.labels {
					assert.Less(t, float64(p.X.Tick.Label.Width(l)), float64(room), l)
				}
			}
			dir := t.TempDir()
			require.NoError(t, c.render(dir))
			f, err := os.Open(filepath.Join(dir, "c.png"))
			require.NoError(t, err)
			defer f.Close()
			cfg, err := png.DecodeConfig(f)
			require.NoError(t, err)
			assert.Positive(t, cfg.Width)
			assert.Positive(t, cfg.Height)
		})
	}
}

// TestRedraw draws the committed results' charts again from their
// results.json into a copy of the directory.
func TestRedraw(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("results", "results.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644))
	require.NoError(t, Redraw(dir))
	charts, err := filepath.Glob(filepath.Join(dir, "*.png"))
	require.NoError(t, err)
	assert.NotEmpty(t, charts)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "## Machine")
	assert.Error(t, Redraw(t.TempDir()), "no results.json")
}
