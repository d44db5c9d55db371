package module

import (
	"context"
	"errors"
	"fmt"

	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	libvectorizer "github.com/weaviate/weaviate/usecases/vectorizer"

	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// encoder is what the module needs of the vectorizer: per-item errors,
// un-normalized vectors of one dimension, in input order.
type encoder interface {
	EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error)
	EncodeImagesBase64(ctx context.Context, images []string) ([][]float32, []error)
	Close() error
}

// input is one vector's source: a text or an image of a property.
type input struct {
	prop   string
	value  string
	weight float32
}

// objectInputs is what one object contributes, texts in sorted property
// order (text[] values in their order), then images in sorted property
// order: the order multi2vec-clip combines them in.
type objectInputs struct {
	texts, images []input
}

func (in objectInputs) empty() bool { return len(in.texts) == 0 && len(in.images) == 0 }

// inputs collects an object's vectorizable values.
func (s *classSettings) inputs(obj *models.Object) objectInputs {
	var out objectInputs
	props, ok := obj.Properties.(map[string]any)
	if !ok {
		return out
	}
	for _, name := range moduletools.SortStringKeys(props) {
		if w, ok := s.text.weight(name); ok {
			for _, t := range textValues(props[name]) {
				out.texts = append(out.texts, input{prop: name, value: t, weight: w})
			}
		}
	}
	for _, name := range moduletools.SortStringKeys(props) {
		if w, ok := s.image.weight(name); ok {
			if b, ok := props[name].(string); ok && b != "" {
				out.images = append(out.images, input{prop: name, value: b, weight: w})
			}
		}
	}
	return out
}

// mistypedValues is the error of each mistyped field the object has a
// value for.
func mistypedValues(obj *models.Object, mistyped map[string]error) error {
	if len(mistyped) == 0 {
		return nil
	}
	props, ok := obj.Properties.(map[string]any)
	if !ok {
		return nil
	}
	var out []error
	for _, name := range moduletools.SortStringKeys(props) {
		if err, bad := mistyped[name]; bad && props[name] != nil {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

func textValues(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		return nil
	}
}

// combine turns an object's vectors into its vector with multi2vec-clip's
// arithmetic: without weights the mean, with weights NormalizeWeights and
// then CombineVectorsWithWeights. Each weight belongs to its own vector.
// An object with none of the fields gets nil.
func (s *classSettings) combine(in objectInputs, textVecs, imageVecs [][]float32) ([]float32, error) {
	vectors := make([][]float32, 0, len(textVecs)+len(imageVecs))
	vectors = append(vectors, textVecs...)
	vectors = append(vectors, imageVecs...)
	if len(vectors) == 0 {
		return nil, nil
	}
	dim := len(vectors[0])
	for _, v := range vectors {
		if len(v) != dim || dim == 0 {
			return nil, fmt.Errorf("encoder returned vectors of %d and %d dimensions", dim, len(v))
		}
	}
	if !s.weighted {
		return libvectorizer.CombineVectorsWithWeights(vectors, nil), nil
	}
	weights := make([]float32, 0, len(vectors))
	var sum float32
	for _, part := range [][]input{in.texts, in.images} {
		for _, i := range part {
			weights = append(weights, i.weight)
			sum += i.weight
		}
	}
	if sum == 0 {
		return nil, errors.New("every field present on the object has weight 0")
	}
	return libvectorizer.CombineVectorsWithWeights(vectors, moduletools.NormalizeWeights(weights)), nil
}

// batchVectorizer vectorizes a batch with one text call and one image call.
type batchVectorizer struct {
	enc encoder
	// name prefixes the errors: the module's name.
	name string

	// what the batch has got to, for its entry point's recover (panicked)
	inputs   []objectInputs
	encoding encoding
}

// vectorizeBatch returns a vector for each object (nil where skipped or
// where the object has none of the fields) and the errors of the objects
// that failed, by index. mistyped are the fields whose property has a data
// type their kind does not take (classSettings.mistyped): an object with a
// value for one of them fails.
func (b *batchVectorizer) vectorizeBatch(ctx context.Context, objs []*models.Object, skip []bool,
	s vectorSettings, mistyped map[string]error,
) ([][]float32, map[int]error) {
	vectors := make([][]float32, len(objs))
	errs := map[int]error{}
	inputs := make([]objectInputs, len(objs))
	b.inputs = inputs
	var texts, images []string
	for i, obj := range objs {
		if (i < len(skip) && skip[i]) || obj == nil {
			continue
		}
		if err := mistypedValues(obj, mistyped); err != nil {
			errs[i] = err
			continue
		}
		inputs[i] = s.inputs(obj)
		for _, t := range inputs[i].texts {
			texts = append(texts, t.value)
		}
		for _, im := range inputs[i].images {
			images = append(images, im.value)
		}
	}
	textVecs, textErrs, err := b.encoding.encode(ctx, "encode texts", b.enc.EncodeTexts, texts)
	if err != nil {
		return vectors, failAll(b.name, objs, inputs, fmt.Errorf("encode texts: %w", err))
	}
	imageVecs, imageErrs, err := b.encoding.encode(ctx, "encode images", b.enc.EncodeImagesBase64, images)
	if err != nil {
		return vectors, failAll(b.name, objs, inputs, fmt.Errorf("encode images: %w", err))
	}
	ti, ii := 0, 0
	for i := range objs {
		in := inputs[i]
		if _, failed := errs[i]; failed || (i < len(skip) && skip[i]) || objs[i] == nil {
			continue
		}
		tv, te := textVecs[ti:ti+len(in.texts)], textErrs[ti:ti+len(in.texts)]
		iv, ie := imageVecs[ii:ii+len(in.images)], imageErrs[ii:ii+len(in.images)]
		ti += len(in.texts)
		ii += len(in.images)
		if err := firstError(b.name, in, te, ie); err != nil {
			errs[i] = err
			continue
		}
		v, err := s.combine(in, tv, iv)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", b.name, err)
			continue
		}
		vectors[i] = v
	}
	return vectors, errs
}

// firstError names the property of each failed input.
func firstError(name string, in objectInputs, textErrs, imageErrs []error) error {
	var out []error
	for j, e := range textErrs {
		if e != nil {
			out = append(out, fmt.Errorf("text property %q: %w", in.texts[j].prop, itemerror.Cause(e)))
		}
	}
	for j, e := range imageErrs {
		if e != nil {
			out = append(out, fmt.Errorf("image property %q: %w", in.images[j].prop, itemerror.Cause(e)))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", name, errors.Join(out...))
}

func failAll(name string, objs []*models.Object, inputs []objectInputs, err error) map[int]error {
	errs := map[int]error{}
	for i := range objs {
		if !inputs[i].empty() {
			errs[i] = fmt.Errorf("%s: %w", name, err)
		}
	}
	return errs
}

// panicked is the errors of a batch whose vectorizing panicked with r:
// while the encoder ran, the encoder's panic, on each object that had
// something to encode (as when the encoder fails); otherwise the module's
// own, on every object not skipped.
func (b *batchVectorizer) panicked(r any, objs []*models.Object, skip []bool) map[int]error {
	if b.encoding.running != "" {
		return failAll(b.name, objs, b.inputs, fmt.Errorf("%s: encoder panicked: %v", b.encoding.running, r))
	}
	err := fmt.Errorf("%s: vectorize batch: internal error: %v", b.name, r)
	errs := map[int]error{}
	for i := range objs {
		if i >= len(skip) || !skip[i] {
			errs[i] = err
		}
	}
	return errs
}

type encodeFunc func(ctx context.Context, items []string) ([][]float32, []error)

// encoding is an entry point's call of the encoder, for its recover:
// running names the call ("encode texts") while the encoder runs.
type encoding struct{ running string }

// encode calls the encoder and checks that it answered one vector or one
// error per item; what names the call while it runs. It does not recover:
// the entry point that called it does, and asks e whether the encoder was
// running.
func (e *encoding) encode(ctx context.Context, what string, f encodeFunc, items []string) (vecs [][]float32, errs []error, err error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	e.running = what
	vecs, errs = f(ctx, items)
	e.running = ""
	if errs == nil {
		errs = make([]error, len(items))
	}
	if len(vecs) != len(items) || len(errs) != len(items) {
		return nil, nil, fmt.Errorf("encoder returned %d vectors and %d errors for %d inputs", len(vecs), len(errs), len(items))
	}
	for i := range items {
		if errs[i] == nil && len(vecs[i]) == 0 {
			errs[i] = errors.New("encoder returned an empty vector")
		}
	}
	return vecs, errs, nil
}
