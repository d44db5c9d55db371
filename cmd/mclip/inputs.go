package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// inputFlags are the flags shared by embed, similarity and tokenize.
type inputFlags struct {
	model     string
	modelDir  string
	texts     stringList
	textsFile string
	textsJSON string
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", modelFlagUsage)
	fs.StringVar(&f.modelDir, "model-dir", "", "model directory (default $"+config.EnvModelDir+", else the model store's cache: see `mclip models path`)")
	fs.Var(&f.texts, "text", "a text to encode (repeatable)")
	fs.StringVar(&f.textsFile, "texts-file", "", "a file with one text per line")
	fs.StringVar(&f.textsJSON, "texts-json", "", "a file holding a JSON array of strings")
}

// collectTexts returns the texts of every text flag, in flag order: --text
// values, then the lines of --texts-file, then --texts-json's array.
func (f *inputFlags) collectTexts() ([]string, error) {
	out := append([]string(nil), f.texts...)
	if f.textsFile != "" {
		file, err := os.Open(f.textsFile)
		if err != nil {
			return nil, fmt.Errorf("--texts-file: %w", err)
		}
		defer file.Close()
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			out = append(out, strings.TrimSuffix(sc.Text(), "\r"))
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--texts-file %s: %w", f.textsFile, err)
		}
	}
	if f.textsJSON != "" {
		data, err := os.ReadFile(f.textsJSON)
		if err != nil {
			return nil, fmt.Errorf("--texts-json: %w", err)
		}
		var arr []string
		if err := json.Unmarshal(data, &arr); err != nil {
			return nil, fmt.Errorf("--texts-json %s: want a JSON array of strings: %w", f.textsJSON, err)
		}
		out = append(out, arr...)
	}
	return out, nil
}

// settings reads the environment and applies --model and --model-dir. The model
// directory is resolved when the models open (vectorizer.Open, ResolveDir):
// MCLIP_MODEL_DIR (or --model-dir) when set, checked for completeness, else
// the model store's cache, checked against its lock; never a download
// (`mclip models pull` does that).
func (f *inputFlags) settings() (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, err
	}
	if f.modelDir != "" {
		cfg.ModelDir = f.modelDir
	}
	if f.model != "" {
		cfg.Model = f.model
		if err := cfg.Validate(); err != nil {
			return cfg, usageError{fmt.Errorf("--model: %w", err)}
		}
	}
	return cfg, nil
}

// modelFlagUsage documents --model, the flag form of MCLIP_MODEL.
var modelFlagUsage = "model, by the tag of the multi2vec-clip image with the same vectors (default $" + config.EnvModel +
	", else " + catalog.Default + "; see: mclip models list)"
