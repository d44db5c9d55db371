package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/filelock"
	"github.com/mclip-go/mclip/modelfile/clipgraph"
)

// builtLockName is the file lock that serializes building the graphs of
// one checkpoint (two processes starting on one cache build once).
const builtLockName = ".build.lock"

// BuildGraphs makes the ONNX graphs of a model whose repository publishes
// weights instead of an ONNX export (catalog.Files.Weights): clipgraph
// builds them from the weights file and the tower's config.json into
// cacheDir/clipgraph-v<Version>/<sha256 of the weights>/, once (under a
// file lock; later calls find the files), the text graph pooled by pool.
// It returns d with the built graphs set (BuiltText, BuiltVision). A model
// whose towers have ONNX graphs is returned unchanged.
func BuildGraphs(ctx context.Context, d Dir, cacheDir string, pool catalog.Pooling) (Dir, error) {
	m, err := d.Layout()
	if err != nil {
		return d, err
	}
	if m.Text.Weights == "" && m.Vision.Weights == "" {
		return d, nil
	}
	if cacheDir == "" {
		return d, fmt.Errorf("model %s: its graphs are built from %s and need a writable directory: the model directory is read-only and the optimized-graph cache is off (set MCLIP_OPTIMIZED_CACHE_DIR)", m.Tag, m.Text.Weights)
	}
	var cp clipgraph.Pooling
	switch pool {
	case catalog.PoolingEOS:
		cp = clipgraph.PoolEOS
	case catalog.PoolingArgmax:
		cp = clipgraph.PoolArgmax
	default:
		return d, fmt.Errorf("model %s: clipgraph has no text pooling %q", m.Tag, pool)
	}
	sums := map[string]string{} // one checkpoint may serve both towers
	for _, t := range []struct {
		tower string
		files catalog.Files
		join  func(string) string
		text  bool
	}{
		{TextDir, m.Text.Files, d.Text, true},
		{VisionDir, m.Vision.Files, d.Vision, false},
	} {
		if t.files.Weights == "" {
			continue
		}
		weights, config := t.join(t.files.Weights), t.join(checkpointConfig(t.files))
		sum, ok := sums[weights]
		if !ok {
			if sum, err = fileSHA256(weights); err != nil {
				return d, fmt.Errorf("model %s, %s tower: %w", m.Tag, t.tower, err)
			}
			sums[weights] = sum
		}
		dir := filepath.Join(cacheDir, "clipgraph-v"+clipgraph.Version, sum)
		name := "vision_model.onnx"
		if t.text {
			name = "text_model_" + cp.String() + ".onnx"
		}
		out := filepath.Join(dir, name)
		if err := buildOnce(ctx, dir, out, func() error {
			ck, err := clipgraph.OpenCheckpoint(weights, config)
			if err != nil {
				return err
			}
			defer ck.Close()
			if t.text {
				return ck.WriteText(out, cp)
			}
			return ck.WriteVision(out)
		}); err != nil {
			return d, fmt.Errorf("model %s, %s tower: build the graph from %s: %w", m.Tag, t.tower, weights, err)
		}
		if t.text {
			d.BuiltText = out
		} else {
			d.BuiltVision = out
		}
	}
	return d, nil
}

// checkpointConfig is the config file read with a tower's weights:
// open_clip's for an open_clip checkpoint, else transformers' config.json.
func checkpointConfig(f catalog.Files) string {
	for _, r := range f.Required {
		if r == "open_clip_config.json" {
			return r
		}
	}
	return "config.json"
}

// buildOnce runs build, which writes out, unless out exists; under the
// directory's file lock.
func buildOnce(ctx context.Context, dir, out string, build func() error) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := filelock.Lock(ctx, filepath.Join(dir, builtLockName))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	return build()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
