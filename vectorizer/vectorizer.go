// Package vectorizer puts a model's two towers behind one type, Encoder:
// texts and images into the model's one CLIP space.
//
// It does not recover from panics: its callers' boundaries do (the
// Weaviate module's entry points, the inference API's batcher), so that a
// panic anywhere below, ONNX Runtime's binding included, becomes one error
// there. Only the image decoders recover their own, since a decoder
// library that panics on an image has met a bad image (ErrCorrupt).
package vectorizer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/cliptext"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
	"github.com/mclip-go/mclip/vectorizer/text"
	"github.com/mclip-go/mclip/vectorizer/tokenize"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

// Encoder is a model's towers behind one type: it encodes texts and images
// into the model's one space, and is safe for concurrent use.
type Encoder struct {
	text      *text.Encoder // the sentence-transformers text tower, when that is the model's
	textTower textEncoder   // the text tower loaded, whichever it is
	vision    *vision.Encoder
	normalize bool // the model's image returns unit vectors
	info      modelinfo.Info
}

// textEncoder is what the vectorizer needs of a text tower.
type textEncoder interface {
	Encode(ctx context.Context, texts []string) ([][]float32, []error)
	Dimensions() int
	Session() *onnxsession.Session
	Close() error
}

// Towers names the towers to load.
type Towers uint8

// The towers.
const (
	TowerText Towers = 1 << iota
	TowerVision
	BothTowers = TowerText | TowerVision
)

// String names the towers ("text", "vision", "text+vision").
func (t Towers) String() string {
	switch t {
	case TowerText:
		return "text"
	case TowerVision:
		return "vision"
	case BothTowers:
		return "text+vision"
	}
	return fmt.Sprintf("Towers(%d)", uint8(t))
}

// ErrTowerNotLoaded is the error of every item sent to a tower that was
// not loaded (see LoadTowers).
var ErrTowerNotLoaded = errors.New("tower not loaded")

// towerLoaders open the towers; a test replaces them to see which are
// opened.
type towerLoaders struct {
	text   func(dir modelstore.Dir, opts text.Options) (*text.Encoder, error)
	vision func(dir modelstore.Dir, opts vision.Options) (*vision.Encoder, error)
}

var loaders = towerLoaders{text: text.Load, vision: vision.Load}

// Load opens both towers of the model directory with the settings of cfg,
// as a server that serves both needs them.
func Load(cfg config.Config, dir modelstore.Dir) (*Encoder, error) {
	return LoadTowers(cfg, dir, BothTowers)
}

// LoadTowers opens only the towers named: a
// one-off command that encodes only texts never maps the vision tower, and
// the other way round. Items sent to a tower that was not loaded fail with
// ErrTowerNotLoaded.
func LoadTowers(cfg config.Config, dir modelstore.Dir, towers Towers) (*Encoder, error) {
	if towers&BothTowers == 0 || towers&^BothTowers != 0 {
		return nil, fmt.Errorf("load towers: %v names no tower", towers)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	model, err := towersModel(cfg, dir)
	if err != nil {
		return nil, err
	}
	if err := ortlib.Init(cfg.ORTLib); err != nil {
		return nil, err
	}
	variant, err := modelstore.ParseVariant(cfg.Variant)
	if err != nil {
		return nil, err
	}
	variant, _ = modelstore.ResolveVariant(variant, modelstore.DetectCPU())
	// A repository without an ONNX export: its graphs are built from its
	// weights once, the text tower pooled as the settings say.
	if model.Text.Weights != "" || model.Vision.Weights != "" {
		dir, err = modelstore.BuildGraphs(context.Background(), dir, builtGraphDir(cfg, dir), model.TextPooling(cfg.ReplaceMulti2VecClip))
		if err != nil {
			return nil, err
		}
	}
	sess := onnxsession.Options{
		IntraOpThreads:    cfg.Threads,
		InterOpThreads:    cfg.InterOpThreads,
		Provider:          cfg.Provider,
		ORTLib:            cfg.ORTLib,
		OptimizedCacheDir: optimizedCacheDir(cfg, dir),
	}
	var (
		te       *text.Encoder
		tt       textEncoder
		ve       *vision.Encoder
		teErr    error
		veErr    error
		loadText = func() (err error) {
			if model.Text.Tower == catalog.TextCLIP {
				tt, err = loadCLIPText(dir, model, cliptext.Options{Variant: variant, Session: sess, BatchSize: cfg.BatchSize, MaxTextBytes: cfg.MaxTextBytes})
				return err
			}
			te, err = loaders.text(dir, text.Options{Variant: variant, Session: sess, BatchSize: cfg.BatchSize, MaxTextBytes: cfg.MaxTextBytes})
			if te != nil {
				tt = te
			}
			return err
		}
		loadVision = func() (err error) {
			ve, err = loaders.vision(dir, vision.Options{
				Variant:       variant,
				Session:       sess,
				BatchSize:     cfg.BatchSize,
				Decode:        vision.DecodeOptions(cfg),
				Preprocessing: clipprep.Kind(model.Vision.Preprocessing),
				InputSize:     model.Vision.InputSize,
			})
			return err
		}
	)
	// Both at once when both are wanted: the contract check reads the
	// graph file without its weights (onnxsession), so each tower's load
	// peaks at little more than what it keeps, and loading at once is
	// faster for the same peak (the cold-start rows of make bench).
	var wg sync.WaitGroup
	if towers&TowerText != 0 {
		wg.Go(func() { teErr = loadGuarded("text", loadText) })
	}
	if towers&TowerVision != 0 {
		wg.Go(func() { veErr = loadGuarded("vision", loadVision) })
	}
	wg.Wait()
	v := &Encoder{text: te, textTower: tt, vision: ve, normalize: model.Normalize}
	if err := errors.Join(teErr, veErr); err != nil {
		v.Close()
		return nil, err
	}
	if tt != nil && ve != nil && tt.Dimensions() != ve.Dimensions() {
		v.Close()
		return nil, fmt.Errorf("text vectors have %d dimensions but image vectors %d: the towers do not share a space", tt.Dimensions(), ve.Dimensions())
	}
	v.info = modelinfo.Info{Model: model.Tag, Runtime: ortlib.Version(), ModelDir: dir.Root}
	if model.Text.ImagePooling != "" {
		v.info.TextPooling = string(model.TextPooling(cfg.ReplaceMulti2VecClip))
	}
	if tt != nil {
		v.info.Text = modelInfo(dir, model.Text.Repo, modelstore.TextDir, tt.Session(), variant)
		v.info.Dimensions = tt.Dimensions()
	}
	if ve != nil {
		v.info.Vision = modelInfo(dir, model.Vision.Repo, modelstore.VisionDir, ve.Session(), variant)
		v.info.Dimensions = ve.Dimensions()
	}
	return v, nil
}

// towersModel is the catalog entry of the model to load: the directory's,
// which must be the one the settings name (MCLIP_MODEL), and one this build
// runs.
func towersModel(cfg config.Config, dir modelstore.Dir) (catalog.Model, error) {
	want, err := catalog.Runnable(cfg.Model)
	if err != nil {
		return want, err
	}
	have, err := catalog.Runnable(dir.Model)
	if err != nil {
		return have, fmt.Errorf("model directory %s: %w", dir.Root, err)
	}
	if have.Tag != want.Tag {
		return want, fmt.Errorf("model directory %s holds %s, but %s names %s", dir.Root, have.Tag, config.EnvModel, want.Tag)
	}
	// The towers below are the sentence-transformers text stack or CLIP's
	// text transformer, and the CLIP vision tower with one of clipprep's
	// preprocessings; a catalog entry that asks for anything else has no
	// loader here.
	if _, err := clipprep.ParseKind(string(want.Vision.Preprocessing)); err != nil ||
		(want.Text.Tower != catalog.TextSentenceTransformers && want.Text.Tower != catalog.TextCLIP) {
		return want, fmt.Errorf("model %s: this build has no loader for its towers (text %s, images %s)",
			want.Tag, want.Text.Tower, want.Vision.Preprocessing)
	}
	return want, nil
}

// TextPreparer turns texts into the ids the text tower sees, without the
// model (for `mclip tokenize`).
type TextPreparer interface {
	Tokenize(text string) ([]int64, error)
}

// LoadTextPreparer reads the tokenizer (and what bounds its output) of the
// text tower of dir's model.
func LoadTextPreparer(cfg config.Config, dir modelstore.Dir) (TextPreparer, error) {
	model, err := towersModel(cfg, dir)
	if err != nil {
		return nil, err
	}
	if model.Text.Tower != catalog.TextCLIP {
		return text.LoadPreparer(dir, cfg.MaxTextBytes)
	}
	tok, err := tokenize.Load(dir.Text(modelstore.TokenizerJSON))
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	c, err := cliptext.ReadConfig(dir.Text(modelstore.TextConfigJSON))
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	return cliptext.NewPreparer(tok, c, model.Text.MaxTokens, cfg.MaxTextBytes)
}

// loadCLIPText opens CLIP's text tower with the tokenizer of its
// tokenizer.json.
func loadCLIPText(dir modelstore.Dir, model catalog.Model, opts cliptext.Options) (*cliptext.Encoder, error) {
	tok, err := tokenize.Load(dir.Text(modelstore.TokenizerJSON))
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	opts.MaxTokens = model.Text.MaxTokens
	return cliptext.Load(dir, tok, opts)
}

// loadGuarded runs one tower's load on its own goroutine's behalf: a panic
// there would end the process (Weaviate's, for the module), so it becomes
// the load's error.
func loadGuarded(tower string, load func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("load %s tower: internal error: %v", tower, r)
		}
	}()
	return load()
}

// optimizedCacheDir resolves cfg.OptimizedCacheDir: off, the directory
// given, or by default "optimized" in the model directory when that can be
// written (a read-only model directory, such as one baked into an image,
// loads its graphs unoptimized on disk instead).
func optimizedCacheDir(cfg config.Config, dir modelstore.Dir) string {
	switch {
	case cfg.OptimizedCacheOff():
		return ""
	case cfg.OptimizedCacheDir != "":
		return cfg.OptimizedCacheDir
	}
	return writableSubdir(dir.Root, "optimized")
}

// builtGraphDir is where graphs built from a repository's weights are kept:
// the optimized-graph cache (even when optimizing on disk is off), by
// default "optimized" in the model directory when that can be written.
func builtGraphDir(cfg config.Config, dir modelstore.Dir) string {
	if cfg.OptimizedCacheDir != "" && !cfg.OptimizedCacheOff() {
		return cfg.OptimizedCacheDir
	}
	return writableSubdir(dir.Root, "optimized")
}

// writableSubdir returns root/name, created, when it can be written, else
// "".
func writableSubdir(root, name string) string {
	d := filepath.Join(root, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return ""
	}
	f, err := os.CreateTemp(d, ".probe-*")
	if err != nil {
		return ""
	}
	f.Close()
	os.Remove(f.Name())
	return d
}

// modelInfo describes a tower's graph. The revision is the commit the model
// store's lock file recorded for it; a directory that did not come from the
// hub (generated, copied by hand) reports "local".
func modelInfo(dir modelstore.Dir, repo, tower string, sess *onnxsession.Session, variant modelstore.Variant) modelinfo.Tower {
	graph := sess.Path()
	file := graph
	// A graph built from the repository's weights lies in the cache: its
	// full path.
	if r, err := filepath.Rel(dir.TowerRoot(tower), graph); err == nil && filepath.IsLocal(r) {
		file = filepath.ToSlash(r)
	}
	info := modelinfo.Tower{Repo: repo, Revision: "local", File: file, Variant: string(variant), FusedLayerNorms: sess.Fused()}
	if sess.Loaded() != graph {
		info.Optimized = sess.Loaded()
	}
	if err := sess.CacheError(); err != nil {
		info.OptimizedError = err.Error()
	}
	lock, err := modelstore.ReadLock(filepath.Join(dir.Root, modelstore.LockFileName))
	if err != nil {
		return info
	}
	if e, ok := lock.Entry(tower + "/" + file); ok {
		info.Repo, info.Revision = e.Repo, e.Commit
	}
	return info
}

// Info describes the loaded models.
func (v *Encoder) Info() modelinfo.Info { return v.info }

// Text returns the text tower (nil when it was not loaded).
func (v *Encoder) Text() *text.Encoder { return v.text }

// Towers says which towers are loaded.
func (v *Encoder) Towers() Towers {
	var t Towers
	if v.textTower != nil {
		t |= TowerText
	}
	if v.vision != nil {
		t |= TowerVision
	}
	return t
}

// normalized makes each vector a unit vector where the model's image
// returns them so (catalog.Model.Normalize), as torch's v / v.norm(dim=-1)
// does; failed items (nil) are left alone.
func (v *Encoder) normalized(vecs [][]float32) {
	if !v.normalize {
		return
	}
	for _, vec := range vecs {
		var s float64
		for _, x := range vec {
			s += float64(x) * float64(x)
		}
		if s == 0 {
			continue
		}
		inv := 1 / math.Sqrt(s)
		for i, x := range vec {
			vec[i] = float32(float64(x) * inv)
		}
	}
}

// notLoaded fails every one of n items of a kind ("text" or "image"): their
// tower (Towers) was not loaded.
func notLoaded(kind string, tower Towers, n int) ([][]float32, []error) {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = &itemerror.Error{Kind: kind, Index: i, Err: &itemerror.Internal{Err: fmt.Errorf("the %s tower: %w", tower, ErrTowerNotLoaded)}}
	}
	return make([][]float32, n), errs
}

// EncodeTexts returns one un-normalized vector per text, in input order. A
// text that fails gets a nil vector and a non-nil error at its index.
func (v *Encoder) EncodeTexts(ctx context.Context, texts []string) (vecs [][]float32, errs []error) {
	if v.textTower == nil {
		return notLoaded("text", TowerText, len(texts))
	}
	vecs, errs = v.textTower.Encode(ctx, texts)
	v.normalized(vecs)
	return vecs, indexErrors("text", errs)
}

// EncodeImages returns one un-normalized vector per encoded image (JPEG,
// PNG, GIF, WebP, BMP, TIFF), in input order, with per-item errors.
func (v *Encoder) EncodeImages(ctx context.Context, images [][]byte) (vecs [][]float32, errs []error) {
	if v.vision == nil {
		return notLoaded("image", TowerVision, len(images))
	}
	vecs, errs = v.vision.Encode(ctx, images)
	v.normalized(vecs)
	return vecs, indexErrors("image", errs)
}

// EncodeImagesBase64 decodes base64 blobs (as Weaviate stores them; a
// data: URI prefix is accepted) and encodes them like EncodeImages.
func (v *Encoder) EncodeImagesBase64(ctx context.Context, images []string) (vecs [][]float32, errs []error) {
	if v.vision == nil {
		return notLoaded("image", TowerVision, len(images))
	}
	raw := make([][]byte, len(images))
	errs = make([]error, len(images))
	var ok []int
	for i, s := range images {
		b, err := imagedecode.DecodeBase64(s)
		if err != nil {
			errs[i] = itemError("image", i, err)
			continue
		}
		raw[i] = b
		ok = append(ok, i)
	}
	sub := make([][]byte, len(ok))
	for j, i := range ok {
		sub[j] = raw[i]
	}
	subVecs, subErrs := v.vision.Encode(ctx, sub)
	v.normalized(subVecs)
	vecs = make([][]float32, len(images))
	for j, i := range ok {
		vecs[i] = subVecs[j]
		if subErrs[j] != nil {
			errs[i] = itemError("image", i, subErrs[j])
		}
	}
	return vecs, errs
}

// Close releases the towers that were loaded.
func (v *Encoder) Close() error {
	var errs []error
	if v.textTower != nil {
		errs = append(errs, v.textTower.Close())
	}
	if v.vision != nil {
		errs = append(errs, v.vision.Close())
	}
	return errors.Join(errs...)
}

// indexErrors gives each item's error its kind and index
// (itemerror.Error) and marks the errors that are not the input's fault
// (itemerror.Internal).
func indexErrors(kind string, errs []error) []error {
	for i, err := range errs {
		if err != nil {
			errs[i] = itemError(kind, i, err)
		}
	}
	return errs
}

func itemError(kind string, i int, err error) error {
	return &itemerror.Error{Kind: kind, Index: i, Err: classify(err)}
}

// inputErrors are the sentinel errors of bad input.
var inputErrors = []error{
	text.ErrTooLong, imagedecode.ErrBase64, imagedecode.ErrEmpty, imagedecode.ErrUnsupported,
	imagedecode.ErrTooLarge, imagedecode.ErrTruncated, imagedecode.ErrCorrupt, imagedecode.ErrZeroSize,
}

// classify wraps err in an itemerror.Internal unless it is bad input or a
// cancellation (the caller's own doing).
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, in := range inputErrors {
		if errors.Is(err, in) {
			return err
		}
	}
	return &itemerror.Internal{Err: err}
}
