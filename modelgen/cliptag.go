package modelgen

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelgen/vocab"
	"github.com/mclip-go/mclip/modelstore"
)

// Files of the CLIP text tower as Xenova's exports publish them (the
// repository root of Xenova/clip-vit-base-patch32 is the text directory).
const (
	clipTextInt8 = "onnx/text_model_quantized.onnx"
	clipTextFP16 = "onnx/text_model_fp16.onnx"
)

// clipVocabFor is the CLIP tokenizer's vocabulary at a size: OpenAI's
// 49,408 at full size, a small one for tiny models (the ids stay below the
// start and end tokens, the two highest, as in OpenAI's).
func clipVocabFor(size Size) int {
	if size == Full {
		return vocab.CLIPFull
	}
	return vocab.CLIPTiny
}

// clipTowers writes the towers of a CLIPModel tag in the layout of
// Xenova's exports (Xenova/clip-vit-base-patch32, -patch16), from one
// transformers checkpoint of arch with random weights built through
// clipgraph: the text tower as tokenizer.json (CLIP's byte-level BPE),
// config.json (the CLIPConfig) and onnx/text_model.onnx (input_ids ->
// text_embeds, pooled at the highest id as CLIPModel pools OpenAI's
// vocabulary); the image tower as config.json, preprocessor_config.json
// (CLIPImageProcessor's) and onnx/vision_model.onnx (pixel_values ->
// image_embeds). Both towers come from the same weights, as in the
// repository.
func (w *writer) clipTowers(arch CLIPArch, size Size, seed int64, text, vision bool) error {
	n := clipVocabFor(size)
	tmp, err := os.MkdirTemp("", "mclip-clipgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	c, err := WriteCLIPCheckpoint(tmp, arch, size, seed, n)
	if err != nil {
		return err
	}
	cfg, err := os.ReadFile(filepath.Join(tmp, "config.json"))
	if err != nil {
		return err
	}
	ck, err := clipgraph.OpenCheckpoint(filepath.Join(tmp, "model.safetensors"), filepath.Join(tmp, "config.json"))
	if err != nil {
		return err
	}
	defer ck.Close()
	if text {
		if err := w.clipText(ck, cfg, n); err != nil {
			return fmt.Errorf("text tower: %w", err)
		}
	}
	if vision {
		if err := w.clipVision(ck, cfg, c.Vision.ImageSize); err != nil {
			return fmt.Errorf("vision tower: %w", err)
		}
	}
	return nil
}

func (w *writer) clipText(ck *clipgraph.Checkpoint, cfg []byte, vocabSize int) error {
	m, err := clipgraph.Text(ck.Config, ck.Source, clipgraph.PoolArgmax)
	if err != nil {
		return err
	}
	dir := modelstore.TextDir
	if err := w.graph(dir, m, CLIPTextGraph, clipTextInt8, clipTextFP16); err != nil {
		return err
	}
	if err := w.bytes(dir, modelstore.TextConfigJSON, cfg); err != nil {
		return err
	}
	var tok bytes.Buffer
	if err := vocab.WriteCLIPTokenizerJSON(&tok, vocabSize); err != nil {
		return fmt.Errorf("tokenizer.json: %w", err)
	}
	return w.bytes(dir, modelstore.TokenizerJSON, tok.Bytes())
}

func (w *writer) clipVision(ck *clipgraph.Checkpoint, cfg []byte, inputSize int) error {
	m, err := clipgraph.Vision(ck.Config, ck.Source)
	if err != nil {
		return err
	}
	dir := modelstore.VisionDir
	if err := w.graph(dir, m, modelstore.VisionONNXFP32, modelstore.VisionONNXQuantized, modelstore.VisionONNXFP16); err != nil {
		return err
	}
	if err := w.bytes(dir, modelstore.VisionConfigJSON, cfg); err != nil {
		return err
	}
	return w.json(dir, modelstore.PreprocessorConfig, preprocessorConfig(VisionParams{ImageSize: inputSize}))
}

// clipWeights writes the towers of a CLIPModel tag whose repository
// publishes weights and no ONNX export (facebook/metaclip-2-worldwide-b32-384):
// model.safetensors and config.json in each tower's directory (one file
// linked into both where the filesystem allows), the text tower's
// tokenizer.json (XLM-V's SentencePiece Unigram) and the vision tower's
// preprocessor_config.json. mclip builds the graphs from them at load
// (modelstore.BuildGraphs).
func (w *writer) clipWeights(arch CLIPArch, size Size, seed int64, text, vision bool) error {
	n := vocab.XLMVFull
	if size != Full {
		n = vocab.UnigramTiny
	}
	tmp, err := os.MkdirTemp(w.root, ".mclip-clipgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	c, err := WriteCLIPCheckpoint(tmp, arch, size, seed, n)
	if err != nil {
		return err
	}
	cfg, err := os.ReadFile(filepath.Join(tmp, "config.json"))
	if err != nil {
		return err
	}
	weights := filepath.Join(tmp, "model.safetensors")
	link := func(dir string) error {
		return w.create(dir, "model.safetensors", func(path string) error {
			if err := os.Link(weights, path); err == nil {
				return nil
			}
			return copyFile(weights, path)
		})
	}
	if text {
		if err := link(modelstore.TextDir); err != nil {
			return fmt.Errorf("text tower: %w", err)
		}
		if err := w.bytes(modelstore.TextDir, modelstore.TextConfigJSON, cfg); err != nil {
			return fmt.Errorf("text tower: %w", err)
		}
		var tok bytes.Buffer
		if err := vocab.WriteUnigramTokenizerJSON(&tok, n); err != nil {
			return fmt.Errorf("text tower: tokenizer.json: %w", err)
		}
		if err := w.bytes(modelstore.TextDir, modelstore.TokenizerJSON, tok.Bytes()); err != nil {
			return fmt.Errorf("text tower: %w", err)
		}
	}
	if vision {
		if err := link(modelstore.VisionDir); err != nil {
			return fmt.Errorf("vision tower: %w", err)
		}
		if err := w.bytes(modelstore.VisionDir, modelstore.VisionConfigJSON, cfg); err != nil {
			return fmt.Errorf("vision tower: %w", err)
		}
		if err := w.json(modelstore.VisionDir, modelstore.PreprocessorConfig, preprocessorConfig(VisionParams{ImageSize: c.Vision.ImageSize})); err != nil {
			return fmt.Errorf("vision tower: %w", err)
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
