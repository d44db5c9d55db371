// Package module is the Weaviate module multi2vec-mclip: the multilingual
// CLIP text tower (sentence-transformers' clip-ViT-B-32-multilingual-v1) and
// the CLIP ViT-B/32 vision tower, run in process through ONNX Runtime. Its
// collection settings are multi2vec-clip's. The same module also serves the
// name multi2vec-clip with Weaviate's multi2vec-clip vectors (NewClip,
// under MCLIP_REPLACE_MULTI2VEC_CLIP; see flavor.go and stockclip.go).
package module

import (
	"context"
	"fmt"
	"sync"

	"github.com/sirupsen/logrus"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/modulecapabilities"
	"github.com/weaviate/weaviate/entities/moduletools"
	libvectorizer "github.com/weaviate/weaviate/usecases/vectorizer"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

// Name is the module's name in ENABLE_MODULES and in collection configs.
const Name = "multi2vec-mclip"

// loadFunc loads the encoder and describes its models.
type loadFunc func(ctx context.Context, cfg config.Config) (encoder, modelinfo.Info, error)

// Module is the multi2vec-mclip module.
type Module struct {
	flavor flavor
	load   loadFunc

	enc    encoder
	meta   modelinfo.Info
	logger logrus.FieldLogger

	nearImageGraphqlProvider modulecapabilities.GraphQLArguments
	nearImageSearcher        modulecapabilities.Searcher[[]float32]
	nearTextGraphqlProvider  modulecapabilities.GraphQLArguments
	nearTextSearcher         modulecapabilities.Searcher[[]float32]
	nearTextTransformer      modulecapabilities.TextTransform

	// classes, stop and ignoredURLs serve the multi2vec-clip replacement's
	// start-up note on the inferenceUrl settings it ignores (register.go).
	classes     ClassLister
	stop        chan struct{}
	ignoredURLs sync.Map

	closeOnce sync.Once
	closeErr  error
}

// New returns the module multi2vec-mclip; it loads the models in Init.
func New() *Module {
	return &Module{flavor: mclipFlavor, load: loadEncoder}
}

// NewClip returns the module under Weaviate's name multi2vec-clip, with
// Weaviate's multi2vec-clip vectors (see stockClipSettings): what
// weaviate-mclip registers under MCLIP_REPLACE_MULTI2VEC_CLIP=true in
// place of Weaviate's HTTP module. Same models, encoders and batching as New.
func NewClip() *Module {
	return &Module{flavor: clipFlavor, load: loadEncoder}
}

// Name returns the module's name.
func (m *Module) Name() string { return m.flavor.name }

// Type says the module vectorizes more than one modality.
func (m *Module) Type() modulecapabilities.ModuleType { return modulecapabilities.Multi2Vec }

// Init reads the module-wide settings from the environment and loads the
// models. A missing or broken model directory fails here, with one line
// that says what to run.
func (m *Module) Init(ctx context.Context, params moduletools.ModuleInitParams) (err error) {
	defer m.recoverTo(&err, "init", nil)
	m.logger = params.GetLogger()
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name(), err)
	}
	enc, meta, err := m.load(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name(), err)
	}
	m.enc, m.meta = enc, meta
	m.initNearImage()
	if m.classes != nil {
		m.stop = make(chan struct{})
		go m.watchIgnoredInferenceURLs()
	}
	m.logger.WithField("action", "startup").WithField("module", m.Name()).
		WithField("text_model", meta.Text.File).WithField("vision_model", meta.Vision.File).
		WithField("variant", meta.Text.Variant).WithField("onnxruntime", meta.Runtime).
		WithField("text_fused_layer_norms", meta.Text.FusedLayerNorms).
		WithField("vision_fused_layer_norms", meta.Vision.FusedLayerNorms).
		Info("models loaded")
	for tower, problem := range meta.CacheProblems() {
		m.logger.WithField("action", "startup").WithField("module", m.Name()).WithField("tower", tower).
			WithField("error", problem).Warn(modelinfo.CacheWarning)
	}
	return nil
}

// InitExtension picks up the text transformers (used by nearText's
// moveTo and moveAwayFrom) of the other modules.
func (m *Module) InitExtension(modules []modulecapabilities.Module) error {
	for _, module := range modules {
		if module.Name() == m.Name() {
			continue
		}
		if arg, ok := module.(modulecapabilities.TextTransformers); ok && arg != nil && arg.TextTransformers() != nil {
			m.nearTextTransformer = arg.TextTransformers()["nearText"]
		}
	}
	m.initNearText()
	return nil
}

// Close releases the models.
func (m *Module) Close() error {
	m.closeOnce.Do(func() {
		if m.stop != nil {
			close(m.stop)
		}
		if m.enc != nil {
			m.closeErr = m.enc.Close()
		}
	})
	return m.closeErr
}

// VectorizeObject computes one object's vector; an object without any of
// the target vector's fields gets nil. It is a batch of one: VectorizeBatch
// recovers for it.
func (m *Module) VectorizeObject(ctx context.Context, obj *models.Object, cfg moduletools.ClassConfig,
) ([]float32, models.AdditionalProperties, error) {
	vecs, _, errs := m.VectorizeBatch(ctx, []*models.Object{obj}, nil, cfg)
	if e, ok := errs[0]; ok {
		return nil, nil, e
	}
	return vecs[0], nil, nil
}

// VectorizeBatch computes the vectors of a whole batch with one text call
// and one image call; an object whose input is bad fails alone.
func (m *Module) VectorizeBatch(ctx context.Context, objs []*models.Object, skipObject []bool,
	cfg moduletools.ClassConfig,
) (vectors [][]float32, _ []models.AdditionalProperties, errs map[int]error) {
	b := &batchVectorizer{enc: m.enc, name: m.Name()}
	defer func() {
		if r := recover(); r != nil {
			m.logPanic(r)
			vectors, errs = make([][]float32, len(objs)), b.panicked(r, objs, skipObject)
		}
	}()
	s, err := m.flavor.parse(cfg)
	if err != nil {
		errs = map[int]error{}
		for i := range objs {
			if i >= len(skipObject) || !skipObject[i] {
				errs[i] = err
			}
		}
		return make([][]float32, len(objs)), nil, errs
	}
	vectors, errs = b.vectorizeBatch(ctx, objs, skipObject, s,
		s.mistyped(cfg.PropertiesDataTypes()))
	return vectors, nil, errs
}

// VectorizableProperties lists the target vector's text and image fields.
func (m *Module) VectorizableProperties(cfg moduletools.ClassConfig) (bool, []string, error) {
	s, err := m.flavor.parse(cfg)
	if err != nil {
		return false, nil, err
	}
	props, err := s.properties()
	return false, props, err
}

// VectorizeInput vectorizes a hybrid search's query text.
func (m *Module) VectorizeInput(ctx context.Context, input string, cfg moduletools.ClassConfig) ([]float32, error) {
	return m.Texts(ctx, []string{input}, cfg)
}

// Texts vectorizes nearText's concepts: the mean of their vectors.
func (m *Module) Texts(ctx context.Context, inputs []string, _ moduletools.ClassConfig) (vec []float32, err error) {
	var enc encoding
	defer m.recoverTo(&err, "vectorize texts", &enc)
	vecs, errs, err := enc.encode(ctx, "encode texts", m.enc.EncodeTexts, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name(), err)
	}
	if len(vecs) == 0 {
		return nil, fmt.Errorf("%s: no text to vectorize", m.Name())
	}
	for i, e := range errs {
		if e != nil {
			return nil, fmt.Errorf("%s: text %d: %w", m.Name(), i, itemerror.Cause(e))
		}
	}
	return libvectorizer.CombineVectors(vecs), nil
}

// VectorizeImage vectorizes nearImage's base64 image.
func (m *Module) VectorizeImage(ctx context.Context, _ string, image string, _ moduletools.ClassConfig,
) (vec []float32, err error) {
	var enc encoding
	defer m.recoverTo(&err, "vectorize image", &enc)
	vecs, errs, err := enc.encode(ctx, "encode images", m.enc.EncodeImagesBase64, []string{image})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name(), err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("%s: no image to vectorize", m.Name())
	}
	if errs[0] != nil {
		return nil, fmt.Errorf("%s: image: %w", m.Name(), itemerror.Cause(errs[0]))
	}
	return vecs[0], nil
}

func (m *Module) logPanic(r any) {
	if m.logger != nil {
		m.logger.WithField("module", m.Name()).WithField("panic", fmt.Sprint(r)).Error("recovered from a panic")
	}
}

// recoverTo turns a panic into an error on the request, so that nothing in
// the module takes Weaviate down. The module's entry points are the only
// places that recover on a request's way (with the image decoders, whose
// libraries' panics are a bad image's): nothing below them does, the
// vectorizer and ONNX Runtime's binding included. An entry point that
// calls the encoder passes its encoding: a panic while the encoder runs is
// the encoder's.
func (m *Module) recoverTo(err *error, what string, enc *encoding) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %s: internal error: %v", m.Name(), what, r)
		if enc != nil && enc.running != "" {
			*err = fmt.Errorf("%s: encoder panicked: %v", m.Name(), r)
		}
		m.logPanic(r)
	}
}

// verify we implement the capabilities
var (
	_ = modulecapabilities.Module(New())
	_ = modulecapabilities.ModuleWithClose(New())
	_ = modulecapabilities.ModuleExtension(New())
	_ = modulecapabilities.Vectorizer[[]float32](New())
	_ = modulecapabilities.InputVectorizer[[]float32](New())
	_ = modulecapabilities.MetaProvider(New())
)
