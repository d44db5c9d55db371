package module

import (
	"context"
	"fmt"
	"strings"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
)

// fixHint says what to run when the models are missing or broken.
const fixHint = "run `bin/mclip models pull` (or set " + config.EnvModelDir +
	" to a complete model directory; test models: `bin/mclip models gen --out DIR`)"

// loadVectorizer resolves the model directory (MCLIP_MODEL_DIR, else the
// model store's cache; never a download at start-up) and opens the models.
func loadVectorizer(ctx context.Context, cfg config.Config) (encoder, Meta, error) {
	dir, err := modelDir(ctx, cfg)
	if err != nil {
		return nil, Meta{}, err
	}
	v, err := vectorizer.Load(cfg, dir)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("load models from %s: %s", dir.Root, withHint(oneLine(err)))
	}
	return v, metaOf(v.Info()), nil
}

func modelDir(ctx context.Context, cfg config.Config) (modelstore.Dir, error) {
	opts, err := modelstore.OptionsFor(cfg)
	if err != nil {
		return modelstore.Dir{}, err
	}
	opts.AllowPull = false
	dir, err := modelstore.Resolve(ctx, opts)
	if err != nil {
		return dir, fmt.Errorf("no usable models: %s", withHint(oneLine(err)))
	}
	return dir, nil
}

// withHint appends fixHint unless the model store already said what to run.
func withHint(msg string) string {
	if strings.Contains(msg, "mclip models pull") {
		return msg
	}
	return msg + "; " + fixHint
}

// oneLine keeps a multi-line error on one log line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func metaOf(info vectorizer.Info) Meta {
	m := func(i vectorizer.ModelInfo) ModelMeta {
		return ModelMeta{Repo: i.Repo, Revision: i.Revision, File: i.File, Variant: i.Variant,
			FusedLayerNorms: i.FusedLayerNorms, OptimizedError: i.OptimizedError}
	}
	return Meta{Text: m(info.Text), Vision: m(info.Vision), Dimensions: info.Dimensions, Runtime: info.Runtime}
}
