// Package catalog names the models mclip serves, by the image tag of
// Weaviate's multi2vec-clip inference container that computes the same
// vectors (semitechnologies/multi2vec-clip:TAG). Each entry says where the
// files come from (hub repositories and files per variant and tower), how a
// text becomes token ids, which towers run with which pooling, how images
// are prepared, whether the vectors are normalised, their dimension, and
// the shape of that image's /meta.
//
// It is a leaf: it imports nothing of mclip, so that config, the model
// store, the vectorizer, the inference API and the CLI all read the same
// description. docs/models.md explains every entry and where it was read.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// The image tags mclip knows.
const (
	// MultilingualB32 is sentence-transformers' clip-ViT-B-32-multilingual-v1
	// text model with the clip-ViT-B-32 image model: the default.
	MultilingualB32 = "sentence-transformers-clip-ViT-B-32-multilingual-v1"
	// CLIPB32 is sentence-transformers' clip-ViT-B-32 (OpenAI's ViT-B/32
	// weights) for both texts and images.
	CLIPB32 = "sentence-transformers-clip-ViT-B-32"
	// OpenAIB16 is openai/clip-vit-base-patch16 through transformers'
	// CLIPModel.
	OpenAIB16 = "openai-clip-vit-base-patch16"
	// MetaCLIP2B32 is facebook/metaclip-2-worldwide-b32-384 through
	// transformers' CLIPModel.
	MetaCLIP2B32 = "facebook-metaclip-2-worldwide-b32-384"
	// OpenCLIPB16 is open_clip's ViT-B-16 with the laion2b_s34b_b88k weights.
	OpenCLIPB16 = "ViT-B-16-laion2b_s34b_b88k"
	// OpenCLIPB32 is open_clip's ViT-B-32-quickgelu with the laion400m_e32
	// weights.
	OpenCLIPB32 = "ViT-B-32-quickgelu-laion400m_e32"

	// Default is the tag used when none is set.
	Default = MultilingualB32
)

// Tokenizer is how a text becomes token ids.
type Tokenizer string

const (
	// TokenizerWordPiece is BERT's WordPiece from tokenizer.json
	// (DistilBERT multilingual, cased).
	TokenizerWordPiece Tokenizer = "wordpiece"
	// TokenizerCLIPBPE is CLIP's byte-level BPE from tokenizer.json (NFC,
	// whitespace collapsed, lower-cased; "</w>" word ends; <|startoftext|>
	// and <|endoftext|> around the ids).
	TokenizerCLIPBPE Tokenizer = "clip-bpe"
	// TokenizerUnigram is the SentencePiece Unigram of XLM-V from
	// tokenizer.json (precompiled charsmap, Metaspace).
	TokenizerUnigram Tokenizer = "sentencepiece-unigram"
	// TokenizerOpenCLIP is open_clip's SimpleTokenizer: CLIP's BPE
	// vocabulary after ftfy and whitespace cleaning, lower-cased, padded
	// with zeros to 77.
	TokenizerOpenCLIP Tokenizer = "open_clip-bpe"
)

// TextTower is the architecture of the text tower.
type TextTower string

const (
	// TextSentenceTransformers is a sentence-transformers stack:
	// Transformer (DistilBERT), mean Pooling, Dense.
	TextSentenceTransformers TextTower = "sentence-transformers"
	// TextCLIP is CLIP's text transformer: causal pre-LN blocks, final
	// LayerNorm, one token pooled, text_projection.
	TextCLIP TextTower = "clip-text"
)

// Pooling is which hidden states become the text's vector.
type Pooling string

const (
	// PoolingMean averages the token states under the attention mask.
	PoolingMean Pooling = "mean"
	// PoolingEOS takes the state at the first end-of-text token.
	PoolingEOS Pooling = "eos"
	// PoolingArgmax takes the state at the highest token id of each text
	// (transformers' CLIPTextTransformer when eos_token_id == 2); for
	// OpenAI's vocabulary, where <|endoftext|> has the highest id, it is
	// the same position as PoolingEOS.
	PoolingArgmax Pooling = "argmax"
)

// VisionTower is the architecture of the vision tower.
type VisionTower string

const (
	VisionViTB32 VisionTower = "vit-b-32"
	VisionViTB16 VisionTower = "vit-b-16"
)

// Activation is the MLP activation of a tower's blocks.
type Activation string

const (
	ActivationGELU      Activation = "gelu"
	ActivationQuickGELU Activation = "quick_gelu"
)

// Preprocessing is how an image becomes the vision tower's input.
type Preprocessing string

const (
	// PreprocessCLIPPillow is transformers' CLIPImageProcessor (the slow
	// one): Pillow's bicubic resize of the shortest side, center crop,
	// rescale, normalise.
	PreprocessCLIPPillow Preprocessing = "clip-pillow"
	// PreprocessCLIPFast is transformers' CLIPImageProcessorFast
	// (use_fast=True): torchvision's bicubic, antialiased resize of a
	// uint8 tensor, center crop, rescale and normalise in float.
	PreprocessCLIPFast Preprocessing = "clip-fast"
	// PreprocessOpenCLIP is open_clip's transform: Pillow bicubic resize of
	// the shortest side, torchvision CenterCrop, RGB, ToTensor, normalise.
	PreprocessOpenCLIP Preprocessing = "open_clip"
)

// MetaShape is the shape of the image's GET /meta (its meta.py).
type MetaShape string

const (
	// MetaSentenceTransformers is {"clip_model": CLIPConfig,
	// "text_model": the text model's config}.
	MetaSentenceTransformers MetaShape = "sentence-transformers"
	// MetaCLIPConfig is the CLIPConfig itself (model_type, text_config,
	// vision_config, projection_dim, ...).
	MetaCLIPConfig MetaShape = "clip-config"
	// MetaOpenCLIP is {"model_name", "pretrained", "model_config",
	// "cache_dir"} as download.py writes it.
	MetaOpenCLIP MetaShape = "open_clip"
)

// Graphs are a tower's ONNX graph files per variant, each list in order of
// preference. LocalOnly files serve a variant when a model directory holds
// them but are not published, so the store never pulls them.
type Graphs struct {
	FP32, FP16, Int8 []string
	LocalOnly        []string
}

// For returns the candidates of a variant ("fp32", "fp16", "int8").
func (g Graphs) For(variant string) []string {
	switch variant {
	case "fp16":
		return g.FP16
	case "int8":
		return g.Int8
	default:
		return g.FP32
	}
}

// Published returns the candidates of a variant that the hub serves.
func (g Graphs) Published(variant string) []string {
	var out []string
	for _, c := range g.For(variant) {
		local := false
		for _, l := range g.LocalOnly {
			local = local || l == c
		}
		if !local {
			out = append(out, c)
		}
	}
	return out
}

// Files are one tower's files in one hub repository: Required are needed
// by every variant, Graphs by one. Paths are relative to the repository
// root and, in a model directory, to the tower's directory.
type Files struct {
	Repo     string
	Required []string
	Graphs   Graphs
	// Weights, when set, is the repository's weights file that the graphs
	// are built from at pull time (the repository publishes no ONNX
	// export); Graphs then names the built files.
	Weights string
}

// Text describes the text tower.
type Text struct {
	Files
	Tokenizer Tokenizer
	Tower     TextTower
	Pooling   Pooling
	// ImagePooling is the pooling the image's Python code applies when it
	// differs from Pooling: a collection made by that image keeps its
	// vectors only with it (the replace switch uses it).
	ImagePooling Pooling
	// MaxTokens is the longest id sequence the tower sees, special tokens
	// included; 0 means the text config's max_position_embeddings.
	MaxTokens int
}

// Vision describes the vision tower.
type Vision struct {
	Files
	Tower         VisionTower
	Activation    Activation
	InputSize     int
	Preprocessing Preprocessing
}

// OpenCLIPName is an open_clip model name and pretrained tag.
type OpenCLIPName struct{ Model, Pretrained string }

// Model is one image tag.
type Model struct {
	Tag string
	// Upstream names what the image's download.py fetches (hub
	// repositories, or open_clip's model and pretrained names).
	Upstream []string
	// Languages the text tower was trained for.
	Languages string
	Dimension int
	// Normalize says whether the image returns unit vectors.
	Normalize bool
	Meta      MetaShape
	// OpenCLIP names the open_clip model and pretrained weights the image
	// loads (MetaOpenCLIP models only; its /meta repeats them).
	OpenCLIP OpenCLIPName
	Text     Text
	Vision   Vision
	// Missing lists what this build lacks to run the tag; empty means it
	// runs. A tag with something missing is listed but refused at start.
	Missing []string
}

// Available reports whether this build runs the tag.
func (m Model) Available() bool { return len(m.Missing) == 0 }

// Status is "available", or "not yet available" with what is missing.
func (m Model) Status() string {
	if m.Available() {
		return "available"
	}
	return "not yet available: needs " + strings.Join(m.Missing, ", ")
}

// Repos returns the hub repositories of the two towers, text first,
// without repeats.
func (m Model) Repos() []string {
	out := []string{m.Text.Repo}
	if m.Vision.Repo != m.Text.Repo {
		out = append(out, m.Vision.Repo)
	}
	return out
}

// TextPooling is the pooling to run: the image's own (ImagePooling) where
// it differs and a collection made by that image must keep its vectors
// (replace, the MCLIP_REPLACE_MULTI2VEC_CLIP switch), else the model's.
func (m Model) TextPooling(replace bool) Pooling {
	if replace && m.Text.ImagePooling != "" {
		return m.Text.ImagePooling
	}
	return m.Text.Pooling
}

// Image is the multi2vec-clip image that computes the tag's vectors.
func (m Model) Image() string { return "semitechnologies/multi2vec-clip:" + m.Tag }

// UnknownError is the error of a tag the catalog does not know.
type UnknownError struct{ Tag string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown model %q: known models are %s", e.Tag, strings.Join(Tags(), ", "))
}

// UnavailableError is the error of a known tag this build cannot run.
type UnavailableError struct{ Model Model }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("model %s is not yet available in this build (it needs %s); available models: %s",
		e.Model.Tag, strings.Join(e.Model.Missing, ", "), strings.Join(AvailableTags(), ", "))
}

// Lookup returns the model of a tag; empty means Default. An unknown tag
// is an *UnknownError listing the known ones.
func Lookup(tag string) (Model, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		tag = Default
	}
	for _, m := range models {
		if m.Tag == tag {
			return m, nil
		}
	}
	return Model{}, &UnknownError{Tag: tag}
}

// Runnable returns the model of a tag when this build runs it: an unknown
// tag is an *UnknownError, a known one with parts missing an
// *UnavailableError.
func Runnable(tag string) (Model, error) {
	m, err := Lookup(tag)
	if err != nil {
		return m, err
	}
	if !m.Available() {
		return m, &UnavailableError{Model: m}
	}
	return m, nil
}

// All returns every model, the default first, then in the order of the
// issue's plan.
func All() []Model { return append([]Model(nil), models...) }

// Tags returns every tag, sorted.
func Tags() []string {
	out := make([]string, len(models))
	for i, m := range models {
		out[i] = m.Tag
	}
	sort.Strings(out)
	return out
}

// AvailableTags returns the tags this build runs, sorted.
func AvailableTags() []string {
	var out []string
	for _, m := range models {
		if m.Available() {
			out = append(out, m.Tag)
		}
	}
	sort.Strings(out)
	return out
}
