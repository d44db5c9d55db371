package catalog

// What this build lacks for the tags that do not run yet; each names the
// part (and the branch building it) so that `mclip models list` and the
// start-up error say what is missing.
const (
	needOpenCLIPTok  = "open_clip's tokenizer (ftfy and whitespace cleaning before CLIP's BPE, zero padding)"
	needConversion   = "a tested conversion of open_clip's published weights to ONNX at load (modelstore.BuildGraphs reads them through clipgraph; no end-to-end test yet)"
	needOpenCLIPPrep = "open_clip's image preprocessing"
)

// xenovaB32Vision is OpenAI's ViT-B/32 vision tower as Xenova's ONNX export
// publishes it; sentence-transformers' clip-ViT-B-32 holds the same
// weights.
var xenovaB32Vision = Vision{
	Files: Files{
		Repo:     "Xenova/clip-vit-base-patch32",
		Required: []string{"config.json", "preprocessor_config.json"},
		Graphs: Graphs{
			FP32: []string{"onnx/vision_model.onnx"},
			FP16: []string{"onnx/vision_model_fp16.onnx"},
			Int8: []string{"onnx/vision_model_quantized.onnx"},
		},
	},
	Tower: VisionViTB32, Activation: ActivationQuickGELU, InputSize: 224, Preprocessing: PreprocessCLIPPillow,
}

// builtGraphs names the graphs built from a repository's weights.
var builtGraphs = struct{ text, vision Graphs }{
	text:   Graphs{FP32: []string{"onnx/text_model.onnx"}},
	vision: Graphs{FP32: []string{"onnx/vision_model.onnx"}},
}

var models = []Model{
	{
		Tag:       MultilingualB32,
		Upstream:  []string{"sentence-transformers/clip-ViT-B-32-multilingual-v1", "clip-ViT-B-32"},
		Languages: "50+ (the multilingual text model's)",
		Dimension: 512,
		Meta:      MetaSentenceTransformers,
		Text: Text{
			Files: Files{
				Repo: "sentence-transformers/clip-ViT-B-32-multilingual-v1",
				Required: []string{"tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json",
					"1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors"},
				Graphs: Graphs{
					FP32: []string{"onnx/model.onnx"},
					// No fp16 graph is published (model_O4.onnx is for GPUs
					// only): a local one wins, else the fp32 graph.
					FP16:      []string{"onnx/model_fp16.onnx", "onnx/model.onnx"},
					Int8:      []string{"onnx/model_quint8_avx2.onnx", "onnx/model_qint8_avx512.onnx", "onnx/model_qint8_avx512_vnni.onnx", "onnx/model_qint8_arm64.onnx"},
					LocalOnly: []string{"onnx/model_fp16.onnx"},
				},
			},
			Tokenizer: TokenizerWordPiece, Tower: TextSentenceTransformers, Pooling: PoolingMean, MaxTokens: 128,
		},
		Vision: xenovaB32Vision,
	},
	{
		Tag:       CLIPB32,
		Upstream:  []string{"clip-ViT-B-32"},
		Languages: "English",
		Dimension: 512,
		Meta:      MetaSentenceTransformers,
		Text: Text{
			Files: Files{
				Repo:     "Xenova/clip-vit-base-patch32",
				Required: []string{"tokenizer.json", "config.json"},
				Graphs: Graphs{
					FP32: []string{"onnx/text_model.onnx"},
					FP16: []string{"onnx/text_model_fp16.onnx"},
					Int8: []string{"onnx/text_model_quantized.onnx"},
				},
			},
			Tokenizer: TokenizerCLIPBPE, Tower: TextCLIP, Pooling: PoolingArgmax, MaxTokens: 77,
		},
		Vision: xenovaB32Vision,
	},
	{
		Tag:       OpenAIB16,
		Upstream:  []string{"openai/clip-vit-base-patch16"},
		Languages: "English",
		Dimension: 512,
		Normalize: true,
		Meta:      MetaCLIPConfig,
		Text: Text{
			Files: Files{
				Repo:     "Xenova/clip-vit-base-patch16",
				Required: []string{"tokenizer.json", "config.json"},
				Graphs: Graphs{
					FP32: []string{"onnx/text_model.onnx"},
					FP16: []string{"onnx/text_model_fp16.onnx"},
					Int8: []string{"onnx/text_model_quantized.onnx"},
				},
			},
			Tokenizer: TokenizerCLIPBPE, Tower: TextCLIP, Pooling: PoolingArgmax, MaxTokens: 77,
		},
		Vision: Vision{
			Files: Files{
				Repo:     "Xenova/clip-vit-base-patch16",
				Required: []string{"config.json", "preprocessor_config.json"},
				Graphs: Graphs{
					FP32: []string{"onnx/vision_model.onnx"},
					FP16: []string{"onnx/vision_model_fp16.onnx"},
					Int8: []string{"onnx/vision_model_quantized.onnx"},
				},
			},
			Tower: VisionViTB16, Activation: ActivationQuickGELU, InputSize: 224, Preprocessing: PreprocessCLIPFast,
		},
	},
	{
		Tag:       MetaCLIP2B32,
		Upstream:  []string{"facebook/metaclip-2-worldwide-b32-384"},
		Languages: "300+ (worldwide)",
		Dimension: 512,
		Normalize: true,
		Meta:      MetaCLIPConfig,
		Text: Text{
			Files: Files{
				Repo:     "facebook/metaclip-2-worldwide-b32-384",
				Required: []string{"tokenizer.json", "config.json"},
				Weights:  "model.safetensors",
				Graphs:   builtGraphs.text,
			},
			Tokenizer: TokenizerUnigram, Tower: TextCLIP, Pooling: PoolingEOS, ImagePooling: PoolingArgmax,
		},
		Vision: Vision{
			Files: Files{
				Repo:     "facebook/metaclip-2-worldwide-b32-384",
				Required: []string{"config.json", "preprocessor_config.json"},
				Weights:  "model.safetensors",
				Graphs:   builtGraphs.vision,
			},
			Tower: VisionViTB32, Activation: ActivationGELU, InputSize: 384, Preprocessing: PreprocessCLIPFast,
		},
	},
	{
		Tag:       OpenCLIPB16,
		Upstream:  []string{"open_clip ViT-B-16", "laion2b_s34b_b88k"},
		Languages: "English",
		Dimension: 512,
		Normalize: true,
		Meta:      MetaOpenCLIP,
		OpenCLIP:  OpenCLIPName{Model: "ViT-B-16", Pretrained: "laion2b_s34b_b88k"},
		Text: Text{
			Files: Files{
				Repo:     "laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
				Required: []string{"open_clip_config.json"},
				Weights:  "open_clip_model.safetensors",
				Graphs:   builtGraphs.text,
			},
			Tokenizer: TokenizerOpenCLIP, Tower: TextCLIP, Pooling: PoolingArgmax, MaxTokens: 77,
		},
		Vision: Vision{
			Files: Files{
				Repo:     "laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
				Required: []string{"open_clip_config.json"},
				Weights:  "open_clip_model.safetensors",
				Graphs:   builtGraphs.vision,
			},
			Tower: VisionViTB16, Activation: ActivationGELU, InputSize: 224, Preprocessing: PreprocessOpenCLIP,
		},
		Missing: []string{needOpenCLIPTok, needConversion, needOpenCLIPPrep},
	},
	{
		Tag:       OpenCLIPB32,
		Upstream:  []string{"open_clip ViT-B-32-quickgelu", "laion400m_e32"},
		Languages: "English",
		Dimension: 512,
		Normalize: true,
		Meta:      MetaOpenCLIP,
		OpenCLIP:  OpenCLIPName{Model: "ViT-B-32-quickgelu", Pretrained: "laion400m_e32"},
		Text: Text{
			Files: Files{
				Repo:     "timm/vit_base_patch32_clip_224.laion400m_e32",
				Required: []string{"open_clip_config.json"},
				Weights:  "open_clip_model.safetensors",
				Graphs:   builtGraphs.text,
			},
			Tokenizer: TokenizerOpenCLIP, Tower: TextCLIP, Pooling: PoolingArgmax, MaxTokens: 77,
		},
		Vision: Vision{
			Files: Files{
				Repo:     "timm/vit_base_patch32_clip_224.laion400m_e32",
				Required: []string{"open_clip_config.json"},
				Weights:  "open_clip_model.safetensors",
				Graphs:   builtGraphs.vision,
			},
			Tower: VisionViTB32, Activation: ActivationQuickGELU, InputSize: 224, Preprocessing: PreprocessOpenCLIP,
		},
		Missing: []string{needOpenCLIPTok, needConversion, needOpenCLIPPrep},
	},
}
