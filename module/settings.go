package module

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	"github.com/weaviate/weaviate/entities/schema"
)

// Collection settings, named as multi2vec-clip names them so that a
// collection switches modules by a rename.
const (
	TextFieldsProperty  = "textFields"
	ImageFieldsProperty = "imageFields"
	WeightsProperty     = "weights"
)

// fieldKind says which tower a field goes through.
type fieldKind int

const (
	textField fieldKind = iota
	imageField
)

func (k fieldKind) setting() string {
	if k == imageField {
		return ImageFieldsProperty
	}
	return TextFieldsProperty
}

// fieldSettings is one kind's fields and, if configured, their weights, in
// config order: weights[i] belongs to names[i].
type fieldSettings struct {
	names   []string
	weights []float32
}

// classSettings is one target vector's module settings.
type classSettings struct {
	text, image fieldSettings
	// weighted is true when weights are configured for either kind.
	weighted bool
}

// moduleSettings returns the module's part of the class (or target vector)
// config.
func moduleSettings(cfg moduletools.ClassConfig) map[string]any {
	if cfg == nil {
		return nil
	}
	if s := cfg.ClassByModuleName(Name); len(s) > 0 {
		return s
	}
	return cfg.Class()
}

// newClassSettings parses and checks the settings on their own (without
// the class's properties).
func newClassSettings(cfg moduletools.ClassConfig) (*classSettings, error) {
	if cfg == nil {
		// cross-class requests such as Explore{} carry no config
		return nil, fmt.Errorf("%s: empty module config", Name)
	}
	raw := moduleSettings(cfg)
	var errs []string
	s := &classSettings{}
	weights, err := weightsObject(raw[WeightsProperty])
	if err != nil {
		errs = append(errs, err.Error())
	}
	for _, k := range []fieldKind{textField, imageField} {
		fs, err := parseFields(k, raw[k.setting()], weights)
		if err != nil {
			errs = append(errs, err.Error())
		}
		if fs.weights != nil {
			s.weighted = true
		}
		if k == textField {
			s.text = fs
		} else {
			s.image = fs
		}
	}
	for name := range weights {
		if name != TextFieldsProperty && name != ImageFieldsProperty {
			errs = append(errs, fmt.Sprintf("weights.%s: unknown setting, want weights.%s or weights.%s",
				name, TextFieldsProperty, ImageFieldsProperty))
		}
	}
	if len(errs) == 0 && len(s.text.names) == 0 && len(s.image.names) == 0 {
		errs = append(errs, fmt.Sprintf("no fields to vectorize: set %s and/or %s", TextFieldsProperty, ImageFieldsProperty))
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("%s: %s", Name, strings.Join(errs, "; "))
	}
	return s, nil
}

func weightsObject(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object, got %T", WeightsProperty, v)
	}
	return m, nil
}

func parseFields(k fieldKind, v any, weights map[string]any) (fieldSettings, error) {
	var fs fieldSettings
	name := k.setting()
	if v != nil {
		arr, ok := v.([]any)
		if !ok {
			return fs, fmt.Errorf("%s must be an array of property names, got %T", name, v)
		}
		if len(arr) == 0 {
			return fs, fmt.Errorf("%s must name at least one property", name)
		}
		seen := map[string]bool{}
		for i, e := range arr {
			s, ok := e.(string)
			if !ok || s == "" {
				return fs, fmt.Errorf("%s[%d] must be a property name, got %v", name, i, e)
			}
			if seen[s] {
				return fs, fmt.Errorf("%s lists property %q twice", name, s)
			}
			seen[s] = true
			fs.names = append(fs.names, s)
		}
	}
	w, ok := weights[name]
	if !ok || w == nil {
		return fs, nil
	}
	arr, ok := w.([]any)
	if !ok {
		return fs, fmt.Errorf("weights.%s must be an array of numbers, got %T", name, w)
	}
	if len(arr) != len(fs.names) {
		return fs, fmt.Errorf("weights.%s has %d weights for %d %s", name, len(arr), len(fs.names), name)
	}
	fs.weights = make([]float32, len(arr))
	for i, e := range arr {
		f, err := number(e)
		if err != nil {
			return fs, fmt.Errorf("weights.%s[%d] (%s): %w", name, i, fs.names[i], err)
		}
		if f < 0 || math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fs, fmt.Errorf("weights.%s[%d] (%s) is %v: weights must be finite and not negative", name, i, fs.names[i], f)
		}
		fs.weights[i] = f
	}
	return fs, nil
}

func number(v any) (float32, error) {
	switch n := v.(type) {
	case float64:
		return float32(n), nil
	case float32:
		return n, nil
	case int:
		return float32(n), nil
	case int64:
		return float32(n), nil
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("not a number: %q", n.String())
		}
		return float32(f), nil
	default:
		return 0, fmt.Errorf("not a number: %v (%T)", v, v)
	}
}

// autoSchemaDescription begins the description Weaviate's auto-schema
// gives each property it creates (usecases/objects/auto_schema.go).
const autoSchemaDescription = "This property was generated by Weaviate's auto-schema feature"

// dataTypes are the data types a field of the kind may have.
func (k fieldKind) dataTypes() []schema.DataType {
	if k == imageField {
		return []schema.DataType{schema.DataTypeBlob}
	}
	return []schema.DataType{schema.DataTypeText, schema.DataTypeTextArray}
}

// accepts says whether a field of the kind may have data type dt. An image
// field may also be text where auto-schema made it: auto-schema knows no
// modules and stores a base64 string as text, and the value is vectorized
// as an image all the same (as multi2vec-clip does).
func (k fieldKind) accepts(dt schema.DataType, autoSchema bool) bool {
	return slices.Contains(k.dataTypes(), dt) || (k == imageField && autoSchema && dt == schema.DataTypeText)
}

func (k fieldKind) typeError(prop string, dt any) string {
	return fmt.Sprintf("%s: property %q has data type %v, want %s", k.setting(), prop, dt, joinTypes(k.dataTypes()))
}

// validate checks the fields against the class's properties. As with
// multi2vec-clip, a field need not exist yet: auto-schema creates it with
// the first object that has it. A field that exists must have a data type
// its kind takes.
func (s *classSettings) validate(class *models.Class) error {
	props := map[string]*models.Property{}
	if class != nil {
		for _, p := range class.Properties {
			props[p.Name] = p
		}
	}
	var errs []string
	for _, k := range []fieldKind{textField, imageField} {
		for _, n := range s.kind(k).names {
			p, ok := props[n]
			if !ok {
				continue
			}
			autoSchema := strings.HasPrefix(p.Description, autoSchemaDescription)
			if len(p.DataType) != 1 || !k.accepts(schema.DataType(p.DataType[0]), autoSchema) {
				errs = append(errs, k.typeError(n, p.DataType))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", Name, strings.Join(errs, "; "))
	}
	return nil
}

// mistyped checks the fields against the class's data types when objects
// are vectorized: Weaviate asks no module when a property is added to a
// collection (POST /v1/schema/{class}/properties, or auto-schema), so a
// field added with a data type its kind does not take is found here. It
// returns an error for each such field, by property name. Image fields may
// be text (auto-schema makes them so).
func (s *classSettings) mistyped(dataTypes map[string]schema.DataType) map[string]error {
	var out map[string]error
	for _, k := range []fieldKind{textField, imageField} {
		for _, n := range s.kind(k).names {
			dt, ok := dataTypes[n]
			if !ok || k.accepts(dt, true) {
				continue
			}
			if out == nil {
				out = map[string]error{}
			}
			out[n] = fmt.Errorf("%s: %s (the property was added to the collection with that type; "+
				"its values cannot be vectorized)", Name, k.typeError(n, dt))
		}
	}
	return out
}

// kind returns the settings of one kind of field.
func (s *classSettings) kind(k fieldKind) fieldSettings {
	if k == imageField {
		return s.image
	}
	return s.text
}

func joinTypes(ts []schema.DataType) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return strings.Join(out, " or ")
}

// properties lists the vectorized properties, texts first, in config order.
func (s *classSettings) properties() ([]string, error) {
	return append(slices.Clone(s.text.names), s.image.names...), nil
}

// weight returns a field's configured weight; a field of a kind without
// weights weighs 1.
func (fs fieldSettings) weight(prop string) (float32, bool) {
	i := slices.Index(fs.names, prop)
	if i < 0 {
		return 0, false
	}
	if fs.weights == nil {
		return 1, true
	}
	return fs.weights[i], true
}
