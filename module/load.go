package module

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/vectorizer"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

// fixHint says what to run when the models are missing or broken.
const fixHint = "run `bin/mclip models pull` (or set " + config.EnvModelDir +
	" to a complete model directory; test models: `bin/mclip models gen --out DIR`)"

// loadEncoder opens the models of cfg (MCLIP_MODEL_DIR, else the model
// store's cache; never a download at start-up), with errors on one line
// that say what to run.
func loadEncoder(ctx context.Context, cfg config.Config) (encoder, modelinfo.Info, error) {
	v, err := vectorizer.Open(ctx, cfg, vectorizer.OpenOptions{})
	var dirErr *vectorizer.DirError
	var loadErr *vectorizer.LoadError
	switch {
	case errors.As(err, &dirErr):
		return nil, modelinfo.Info{}, fmt.Errorf("no usable models: %s", withHint(oneLine(dirErr.Err)))
	case errors.As(err, &loadErr):
		return nil, modelinfo.Info{}, fmt.Errorf("load models from %s: %s", loadErr.Dir, withHint(oneLine(loadErr.Err)))
	case err != nil:
		return nil, modelinfo.Info{}, err
	}
	return v, v.Info(), nil
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
