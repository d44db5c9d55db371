package modelgen

import (
	"bytes"
	"fmt"
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

// clipText writes the text tower of sentence-transformers-clip-ViT-B-32 in
// the layout of Xenova/clip-vit-base-patch32: tokenizer.json (CLIP's
// byte-level BPE), config.json (the CLIPConfig) and onnx/text_model.onnx
// (input_ids -> text_embeds, pooled at the highest id as CLIPModel pools
// OpenAI's vocabulary), with random weights built through clipgraph.
func (w *writer) clipText(size Size, seed int64) error {
	n := clipVocabFor(size)
	tmp, err := os.MkdirTemp("", "mclip-clipgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := WriteCLIPCheckpoint(tmp, CLIPB32QuickGELU, size, seed, n); err != nil {
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
	if err := vocab.WriteCLIPTokenizerJSON(&tok, n); err != nil {
		return fmt.Errorf("tokenizer.json: %w", err)
	}
	return w.bytes(dir, modelstore.TokenizerJSON, tok.Bytes())
}
