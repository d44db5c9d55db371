package module

import (
	"fmt"

	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	"github.com/weaviate/weaviate/entities/schema"
)

// ClipName is Weaviate's multi2vec-clip, which weaviate-mclip serves
// in-process under MCLIP_REPLACE_MULTI2VEC_CLIP=true (see NewClip).
const ClipName = "multi2vec-clip"

// vectorSettings is one target vector's settings as a flavor reads them:
// which values of an object it vectorizes, and how their vectors combine
// into the object's vector.
type vectorSettings interface {
	// inputs collects an object's values: texts, then images, each in the
	// flavor's order.
	inputs(obj *models.Object) objectInputs
	// combine makes the object's vector from the vectors of its inputs
	// (in inputs' order). An object without inputs gets what the flavor
	// gives it (nil, or stock's empty vector).
	combine(in objectInputs, textVecs, imageVecs [][]float32) ([]float32, error)
	// properties lists the vectorized properties.
	properties() ([]string, error)
	// validate checks the settings against the class.
	validate(class *models.Class) error
	// mistyped is the error of each field whose property has a data type
	// the flavor cannot vectorize, by property name (checked when objects
	// are vectorized).
	mistyped(dataTypes map[string]schema.DataType) map[string]error
}

// flavor is what the module's two names differ in: the name, and how a
// target vector's settings are read and its vectors combined. The encoders,
// the batching, the searches and the error handling are shared.
type flavor struct {
	name  string
	parse func(cfg moduletools.ClassConfig) (vectorSettings, error)
}

// mclipFlavor is multi2vec-mclip: weights follow their fields, settings are
// checked against the class.
var mclipFlavor = flavor{
	name: Name,
	parse: func(cfg moduletools.ClassConfig) (vectorSettings, error) {
		s, err := newClassSettings(cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
}

// clipFlavor is the stand-in for Weaviate's multi2vec-clip: its settings
// code, its value order and its arithmetic, quirks included (see
// stockClipSettings).
var clipFlavor = flavor{
	name: ClipName,
	parse: func(cfg moduletools.ClassConfig) (vectorSettings, error) {
		if cfg == nil {
			// cross-class requests such as Explore{} carry no config
			return nil, fmt.Errorf("%s: empty module config", ClipName)
		}
		return newStockClipSettings(cfg), nil
	},
}
