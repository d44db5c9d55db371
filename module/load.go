package module

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
)

// fixHint says what to run when the models are missing or broken.
const fixHint = "run `bin/mclip models pull` (or `make models`) and set " + config.EnvModelDir +
	" to the model directory; for test models run `bin/mclip models gen --out DIR`"

// loadVectorizer opens the models of the configured directory.
func loadVectorizer(cfg config.Config) (encoder, Meta, error) {
	dir, err := modelDir(cfg)
	if err != nil {
		return nil, Meta{}, err
	}
	v, err := vectorizer.Load(cfg, dir)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("load models from %s: %s; %s", dir.Root, oneLine(err), fixHint)
	}
	return v, metaOf(v.Info()), nil
}

// modelDir resolves the model directory and checks that it is complete.
func modelDir(cfg config.Config) (modelstore.Dir, error) {
	if cfg.ModelDir == "" {
		return modelstore.Dir{}, errors.New("no model directory: " + config.EnvModelDir + " is not set; " + fixHint)
	}
	variant, err := modelstore.ParseVariant(cfg.Variant)
	if err != nil {
		return modelstore.Dir{}, err
	}
	variant, _ = modelstore.ResolveVariant(variant, modelstore.DetectCPU())
	dir := modelstore.Dir{Root: cfg.ModelDir}
	if missing := dir.Missing(variant); len(missing) > 0 {
		return dir, fmt.Errorf("model directory %s is incomplete (missing %s); %s",
			dir.Root, strings.Join(missing, ", "), fixHint)
	}
	return dir, nil
}

// oneLine keeps a multi-line error on one log line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func metaOf(info vectorizer.Info) Meta {
	m := func(i vectorizer.ModelInfo) ModelMeta {
		return ModelMeta{Repo: i.Repo, Revision: i.Revision, File: i.File, Variant: i.Variant}
	}
	return Meta{Text: m(info.Text), Vision: m(info.Vision), Dimensions: info.Dimensions, Runtime: info.Runtime}
}
