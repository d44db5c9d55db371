package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	MaybeChild() // the memory probes re-execute this test binary
	os.Exit(m.Run())
}

// TestQuickRun runs the whole suite in quick mode (tiny models, one
// repetition) so that it cannot rot.
func TestQuickRun(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Quick: true, ModelDir: filepath.Join(t.TempDir(), "models"), OutDir: out,
		RepoRoot: "..", Command: "go test ./bench"})
	require.NoError(t, err)
	assert.NotZero(t, res.CeilingFP32)
	assert.NotZero(t, res.CeilingInt8)
	titles := map[string]bool{}
	for _, s := range res.Sections {
		titles[s.Title] = true
		for _, row := range s.Rows {
			assert.NotEmpty(t, row.Metric)
			if row.Target != "" {
				assert.Contains(t, []string{"yes", "no", "n/a"}, row.Pass, row.Metric)
			}
		}
	}
	for _, want := range []string{"Ceiling", "Text tower (fp32)", "Image tower (fp32)", "int8 against fp32", "Memory and start-up", "Weaviate import"} {
		assert.True(t, titles[want], "section %q missing", want)
	}
	assert.NotEmpty(t, res.Settings)
	readme, err := os.ReadFile(filepath.Join(out, "README.md"))
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(readme), "Quick smoke run"))
	for _, c := range res.Charts {
		st, err := os.Stat(filepath.Join(out, c.File))
		require.NoError(t, err, c.File)
		assert.NotZero(t, st.Size(), c.File)
	}
	_, err = os.Stat(filepath.Join(out, "results.json"))
	assert.NoError(t, err)
}

func TestStats(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	assert.Equal(t, 0.0, median(nil))
	assert.InDelta(t, 9.91, quantile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99), 1e-9)
	assert.Equal(t, []float64{2, 0.5}, ratios([]float64{4, 1}, []float64{2, 2}))
}

func TestFLOPs(t *testing.T) {
	// ViT-B/32: about 4.4 G multiply-adds per image.
	assert.InDelta(t, 8.8e9, visionFLOPs(fullVision()), 0.1e9)
	// DistilBERT: about 85 MFLOP per token in the linear layers.
	assert.InDelta(t, 85e6, textFLOPs(fullText(), 1), 1.5e6)
}
