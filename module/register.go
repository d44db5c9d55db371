package module

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/modulecapabilities"

	"github.com/mclip-go/mclip/config"
)

// Registrar is Weaviate's module provider as registration uses it.
type Registrar interface {
	Register(mod modulecapabilities.Module)
}

// ClassLister returns the schema's collections once Weaviate has loaded
// them; ok is false until then. It is polled from a goroutine of the
// module's own, started in Init, while Weaviate is still starting: it must
// read nothing that Weaviate writes without a lock (see the generated
// registerModules in cmd/weaviate-mclip).
type ClassLister func() (classes []*models.Class, ok bool)

// Register is what weaviate-mclip's generated registerModules calls after
// Weaviate registered its own modules. It registers multi2vec-mclip when
// enableModules (ENABLE_MODULES) names it, and, under
// MCLIP_REPLACE_MULTI2VEC_CLIP=true with multi2vec-clip in enableModules,
// NewClip under the name multi2vec-clip: the provider keeps one module per
// name, so it takes the place of Weaviate's HTTP module, which is then
// never initialized (CLIP_INFERENCE_API is not needed). classes lets the
// replacement name, once the schema is loaded, each collection whose
// inferenceUrl it ignores. Settings are read through package config; a bad
// value fails start-up only where one of these modules is in play.
func Register(r Registrar, enableModules string, lookup func(string) (string, bool),
	classes ClassLister, logger logrus.FieldLogger,
) error {
	enabled := map[string]bool{}
	for _, name := range strings.Split(enableModules, ",") {
		enabled[strings.TrimSpace(name)] = true
	}
	switchSet := false
	if v, ok := lookup(config.EnvReplaceClip); ok && strings.TrimSpace(v) != "" {
		switchSet = true
	}
	if !enabled[Name] && !switchSet {
		return nil
	}
	cfg, err := config.FromLookup(lookup)
	if err != nil {
		return fmt.Errorf("mclip: %w", err)
	}
	log := logger.WithField("action", "startup")
	if enabled[Name] {
		r.Register(New())
		log.WithField("module", Name).Debug("enabled module")
	}
	if !cfg.ReplaceMulti2VecClip {
		return nil
	}
	log = log.WithField("module", ClipName).WithField("switch", config.EnvReplaceClip)
	if !enabled[ClipName] {
		log.Warnf("%s=true but ENABLE_MODULES does not name %s: nothing is replaced and %s collections cannot be used; "+
			"add %s to ENABLE_MODULES", config.EnvReplaceClip, ClipName, ClipName, ClipName)
		return nil
	}
	clip := NewClip()
	clip.classes = classes
	r.Register(clip)
	log.Infof("%s is served in-process by mclip (models from %s), with the vectors of Weaviate's %s; "+
		"Weaviate's HTTP module is not used", ClipName, modelSource(cfg), ClipName)
	if cfg.ClipInferenceAPI != "" {
		log.WithField("CLIP_INFERENCE_API", cfg.ClipInferenceAPI).
			Warnf("CLIP_INFERENCE_API is ignored: %s=true serves %s in-process", config.EnvReplaceClip, ClipName)
	}
	return nil
}

func modelSource(cfg config.Config) string {
	if cfg.ModelDir != "" {
		return cfg.ModelDir
	}
	return "the mclip model cache"
}

// inferenceURLScan bounds how long the replacement waits for the schema.
const (
	inferenceURLScanEvery = 500 * time.Millisecond
	inferenceURLScanFor   = 10 * time.Minute
)

// watchIgnoredInferenceURLs waits for the schema and logs, once per
// collection, the inferenceUrl settings of multi2vec-clip it ignores.
func (m *Module) watchIgnoredInferenceURLs() {
	defer func() {
		if r := recover(); r != nil {
			m.logPanic(r)
		}
	}()
	deadline := time.Now().Add(inferenceURLScanFor)
	for time.Now().Before(deadline) {
		if classes, ok := m.classes(); ok {
			for _, c := range classes {
				if urls := clipInferenceURLs(c); len(urls) > 0 {
					m.noteIgnoredInferenceURL("startup", c.Class, urls)
				}
			}
			return
		}
		select {
		case <-m.stop:
			return
		case <-time.After(inferenceURLScanEvery):
		}
	}
}

// noteIgnoredInferenceURL logs one line per collection: at start-up for
// the collections there, at validation for those created later.
func (m *Module) noteIgnoredInferenceURL(action, class string, urls []string) {
	if _, seen := m.ignoredURLs.LoadOrStore(class, true); seen || m.logger == nil {
		return
	}
	m.logger.WithField("action", action).WithField("module", m.Name()).
		WithField("collection", class).WithField("inferenceUrl", strings.Join(urls, ",")).
		Warnf("collection %s: the %s setting inferenceUrl is accepted and ignored: the module runs in-process (%s=true)",
			class, ClipName, config.EnvReplaceClip)
}

// clipInferenceURLs lists the inferenceUrl settings of a class's
// multi2vec-clip vectors (the class's own and its named vectors'), sorted.
func clipInferenceURLs(c *models.Class) []string {
	if c == nil {
		return nil
	}
	set := map[string]bool{}
	add := func(moduleConfig any) {
		mc, ok := moduleConfig.(map[string]any)
		if !ok {
			return
		}
		settings, ok := mc[ClipName].(map[string]any)
		if !ok {
			return
		}
		if u, ok := settings["inferenceUrl"].(string); ok && u != "" {
			set[u] = true
		}
	}
	if c.Vectorizer == ClipName {
		add(c.ModuleConfig)
	}
	for _, vc := range c.VectorConfig {
		add(vc.Vectorizer)
	}
	out := make([]string, 0, len(set))
	for u := range set {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
