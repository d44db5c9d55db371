package module

import (
	"context"

	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/modulecapabilities"
	"github.com/weaviate/weaviate/entities/moduletools"
	"github.com/weaviate/weaviate/entities/schema"
)

// ClassConfigDefaults has no defaults: the fields must be named.
func (m *Module) ClassConfigDefaults() map[string]any {
	return map[string]any{}
}

// PropertyConfigDefaults has no per-property settings.
func (m *Module) PropertyConfigDefaults(_ *schema.DataType) map[string]any {
	return map[string]any{}
}

// ValidateClass checks a collection's (or a target vector's) settings
// against its properties.
func (m *Module) ValidateClass(_ context.Context, class *models.Class, cfg moduletools.ClassConfig) (err error) {
	defer m.recoverTo(&err, "validate class", nil)
	s, err := m.flavor.parse(cfg)
	if err != nil {
		return err
	}
	if sc, ok := s.(*stockClipSettings); ok && class != nil && sc.inferenceURL() != "" {
		m.noteIgnoredInferenceURL("validate_class", class.Class, []string{sc.inferenceURL()})
	}
	return s.validate(class)
}

var _ = modulecapabilities.ClassConfigurator(New())
