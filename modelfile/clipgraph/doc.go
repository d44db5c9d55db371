// Package clipgraph builds ONNX graphs of CLIP's text and vision towers
// in Go from a checkpoint's weights, so that a hub repository publishing
// only safetensors runs through ONNX Runtime with no Python: the model
// store converts at pull time, modelgen builds its generated models with
// it.
//
// The graphs compute what transformers' CLIPModel computes
// (get_text_features, get_image_features) and follow the contract of the
// Xenova ONNX exports:
//
//	text:   input_ids int64 [batch_size, sequence_length] -> text_embeds float32 [batch_size, projection_dim]
//	vision: pixel_values float32 [batch_size, 3, S, S]      -> image_embeds float32 [batch_size, projection_dim]
//
// projected and not normalised. The text tower is the causal pre-LN
// transformer with final_layer_norm and text_projection, pooled by a
// Pooling: PoolEOS (the first text_config.eos_token_id: MetaClip2Model,
// and the models' training) or PoolArgmax (input_ids.argmax(-1): CLIPModel
// whenever eos_token_id == 2, and open_clip). CLIPModelPooling says which
// one CLIPModel picks for a config. With OpenAI's BPE vocabulary (EOS
// 49407, the highest id, but eos_token_id 2 in the legacy config.json)
// use PoolArgmax; for XLM-V (MetaCLIP 2, EOS id 2) the two differ.
// The vision tower is the ViT with its patch convolution (no bias), class
// and position embeddings, pre_layrnorm, post_layernorm on the class token
// and visual_projection, at any image and patch size; both towers take
// hidden_act quick_gelu or gelu.
//
// Use, as the model store does at pull time:
//
//	ck, err := clipgraph.OpenCheckpoint(dir+"/model.safetensors", dir+"/config.json")
//	// or open_clip's: OpenCheckpoint(dir+"/open_clip_model.safetensors", dir+"/open_clip_config.json")
//	defer ck.Close()
//	err = ck.WriteText(out+"/text_model.onnx", clipgraph.PoolEOS)
//	err = ck.WriteVision(out+"/vision_model.onnx")
//
// OpenCheckpoint maps the safetensors file (no copy in the heap) and tells
// transformers' names from open_clip's (OpenCLIPSource maps those:
// in_proj split into q, k, v, projections transposed). Weights may be
// F32, F16 or BF16; the graphs compute in float32, with an F16 token table
// kept in F16 behind a Cast. Text, Vision and WriteModel are the parts:
// the graphs refer to the mapped bytes where no conversion is needed, so
// the checkpoint stays open until they are written; WriteModel writes
// graphs whose weights pass InlineLimit (MetaCLIP 2's 900k-row table) with
// an external data file, ExternalDataName(path), beside the graph, which
// ONNX Runtime finds there. Bad checkpoints get errors naming the weight
// and the shape or dtype wanted.
//
// The graphs use the node patterns ONNX Runtime's optimizer fuses as it
// does torch.onnx's exports (LayerNormalization, QuickGelu or BiasGelu,
// the scaled score MatMul), so that generated models benchmark what users
// run; modelgen's TestCLIPGraphsOptimizeAsTorchExport and
// TestCLIPGraphsMatchPyTorch check both against PyTorch.
package clipgraph
