package module

import (
	"fmt"

	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	"github.com/weaviate/weaviate/entities/schema"
	clipvectorizer "github.com/weaviate/weaviate/modules/multi2vec-clip/vectorizer"
	libvectorizer "github.com/weaviate/weaviate/usecases/vectorizer"
)

// stockClipSettings reproduces how Weaviate's multi2vec-clip (v1.35,
// modules/multi2vec-clip/vectorizer) turns an object into its vector, so
// that a collection built through it keeps its vectors when weaviate-mclip
// serves the name in-process. The settings are read by multi2vec-clip's
// own code (clipvectorizer.NewClassSettings); what it does with them is
// restated here because its Vectorizer sends one HTTP request per object:
//
//   - Values: the object's properties in sorted name order; a string
//     property named in imageFields is an image, one named in textFields is
//     a text (a property named in both is both); a []string (text[])
//     property in textFields gives one text per element, in order; any
//     other value (absent, null, []any) is skipped. Empty strings are sent
//     as they are. The texts come first, then the images.
//   - Without weights: the element-wise mean of all those vectors (a text[]
//     of three counts three times).
//   - With weights: the list is weights.textFields then
//     weights.imageFields, in config order, normalized to sum 1
//     (NormalizeWeights), and paired BY POSITION with the vectors above:
//     weight i goes to vector i whatever field it came from. Each vector is
//     multiplied by its weight, summed, and divided by the number of
//     vectors (CombineVectorsWithWeights): a weighted sum over n, not a
//     weighted mean. A missing field or a text[] element shifts the
//     pairing; more vectors than weights (a text[] with several elements,
//     or images when only textFields has weights) makes multi2vec-clip index
//     past its weights (a recovered panic: the object fails), and fails the
//     object here with an error that says so. Weights that sum to 0 give
//     NaN, as upstream.
//   - An object with none of the fields gets an empty, non-nil vector (no
//     request is made), as upstream; Weaviate stores it without a vector.
//   - A weights setting that is not a list of numbers fails every object,
//     as upstream (checked per object, after the values).
//   - The class name and vectorizeClassName play no part (upstream never
//     reads them); inferenceUrl is accepted and not used.
//
// Validation is multi2vec-clip's (Validate): it does not check that the
// fields exist on the class, nor their types, nor negative weights.
type stockClipSettings struct {
	cs         clipClassSettings
	weights    []float32
	weightsErr error
}

// clipClassSettings is what stockClipSettings needs of multi2vec-clip's
// settings reader.
type clipClassSettings interface {
	ImageField(property string) bool
	ImageFieldsWeights() ([]float32, error)
	TextField(property string) bool
	TextFieldsWeights() ([]float32, error)
	Properties() ([]string, error)
	Validate() error
	InferenceURL() string
}

func newStockClipSettings(cfg moduletools.ClassConfig) *stockClipSettings {
	s := &stockClipSettings{cs: clipvectorizer.NewClassSettings(cfg)}
	s.weights, s.weightsErr = s.stockWeights()
	return s
}

// stockWeights is multi2vec-clip's getWeights: text weights, then image
// weights, normalized.
func (s *stockClipSettings) stockWeights() ([]float32, error) {
	text, err := s.cs.TextFieldsWeights()
	if err != nil {
		return nil, err
	}
	image, err := s.cs.ImageFieldsWeights()
	if err != nil {
		return nil, err
	}
	weights := append(append([]float32{}, text...), image...)
	return moduletools.NormalizeWeights(weights), nil
}

func (s *stockClipSettings) inputs(obj *models.Object) objectInputs {
	var out objectInputs
	props, ok := obj.Properties.(map[string]any)
	if !ok {
		return out
	}
	for _, name := range moduletools.SortStringKeys(props) {
		switch v := props[name].(type) {
		case string:
			if s.cs.ImageField(name) {
				out.images = append(out.images, input{prop: name, value: v})
			}
			if s.cs.TextField(name) {
				out.texts = append(out.texts, input{prop: name, value: v})
			}
		case []string:
			if s.cs.TextField(name) {
				for _, t := range v {
					out.texts = append(out.texts, input{prop: name, value: t})
				}
			}
		}
	}
	return out
}

func (s *stockClipSettings) combine(_ objectInputs, textVecs, imageVecs [][]float32) ([]float32, error) {
	if s.weightsErr != nil {
		return nil, s.weightsErr
	}
	vectors := make([][]float32, 0, len(textVecs)+len(imageVecs))
	vectors = append(vectors, textVecs...)
	vectors = append(vectors, imageVecs...)
	if s.weights != nil && len(vectors) > len(s.weights) {
		return nil, fmt.Errorf("the object has %d values to vectorize (%d texts, text[] elements counted one by one, and %d images) "+
			"but only %d weights are configured: multi2vec-clip pairs weights with values by position and fails such an object too",
			len(vectors), len(textVecs), len(imageVecs), len(s.weights))
	}
	return libvectorizer.CombineVectorsWithWeights(vectors, s.weights), nil
}

func (s *stockClipSettings) properties() ([]string, error) { return s.cs.Properties() }

func (s *stockClipSettings) validate(*models.Class) error { return s.cs.Validate() }

// mistyped is empty: multi2vec-clip checks no data types; a value that is
// not a string or a []string is skipped (see inputs).
func (s *stockClipSettings) mistyped(map[string]schema.DataType) map[string]error { return nil }

// inferenceURL is the per-collection inferenceUrl setting (ignored).
func (s *stockClipSettings) inferenceURL() string { return s.cs.InferenceURL() }
