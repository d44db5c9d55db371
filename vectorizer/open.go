package vectorizer

import (
	"context"
	"io"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
)

// OpenOptions say what Open does besides following the settings.
type OpenOptions struct {
	// Towers to load; zero means both.
	Towers Towers
	// Pull downloads missing models into the cache first; without it a
	// missing model is an error, never a download.
	Pull bool
	// Log receives the model store's progress and notes; nil discards them.
	Log io.Writer
	// Resolved, when set, is called with the model directory before the
	// towers load (to log what is being loaded).
	Resolved func(modelstore.Dir)
}

// Open opens mclip from its settings: it resolves the model directory
// (ResolveDir) and loads the towers (LoadTowers). The Weaviate module,
// `mclip serve` and the CLI all open the vectorizer through it. Its errors
// are a *DirError or a *LoadError, so that a caller can phrase them.
func Open(ctx context.Context, cfg config.Config, o OpenOptions) (*Encoder, error) {
	dir, err := ResolveDir(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if o.Resolved != nil {
		o.Resolved(dir)
	}
	towers := o.Towers
	if towers == 0 {
		towers = BothTowers
	}
	v, err := LoadTowers(cfg, dir, towers)
	if err != nil {
		return nil, &LoadError{Dir: dir.Root, Err: err}
	}
	return v, nil
}

// ResolveDir returns the model directory of cfg: cfg.ModelDir
// (MCLIP_MODEL_DIR) used as is, checked for completeness, without network;
// else the model store's cache, checked against its lock, and pulled first
// when o.Pull is set. Its error is a *DirError.
func ResolveDir(ctx context.Context, cfg config.Config, o OpenOptions) (modelstore.Dir, error) {
	opts, err := modelstore.OptionsFor(cfg)
	if err != nil {
		return modelstore.Dir{}, &DirError{Err: err}
	}
	opts.AllowPull, opts.Log = o.Pull, o.Log
	dir, err := modelstore.Resolve(ctx, opts)
	if err != nil {
		return dir, &DirError{Err: err}
	}
	return dir, nil
}

// DirError says that the settings name no usable model directory.
type DirError struct{ Err error }

func (e *DirError) Error() string { return "model directory: " + e.Err.Error() }
func (e *DirError) Unwrap() error { return e.Err }

// LoadError says that the models of a model directory failed to load.
type LoadError struct {
	Dir string
	Err error
}

func (e *LoadError) Error() string { return "load models from " + e.Dir + ": " + e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }
