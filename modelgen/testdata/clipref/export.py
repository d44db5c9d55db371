"""Exports the tiny CLIP text and vision towers with torch.onnx, from the
modules of reference.py (written from transformers' modeling_clip), to
clip_text_tiny.onnx and clip_vision_tiny.onnx: the references of
clipgraph's TestGraphsOptimizeAsTorchExport, which checks that the graphs
clipgraph builds come out of ONNX Runtime's optimizer with the same compute
nodes as these exports, so that the speed measured on generated models is
the speed of exported ones.

Both towers use modelgen's tiny dimensions (hidden 32, 2 layers, 2 heads),
a 1000-token vocabulary (its size changes no node), random weights. The
text tower takes input_ids alone and pools at input_ids.argmax(-1), as the
Xenova exports of CLIPTextModelWithProjection. One file per activation:
QuickGELU (_quickgelu) and the exact GELU (_gelu).

Run with Debian's python3 (torch 1.13): see regen_export.sh.
"""
import sys
import torch
from torch import nn

import reference as R


def config(act, patch):
    t = dict(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
             max_position_embeddings=77, hidden_act=act, layer_norm_eps=1e-5, eos_token_id=2)
    v = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_channels=3,
             image_size=224, patch_size=patch, hidden_act=act, layer_norm_eps=1e-5)
    return dict(projection_dim=512, text_config=t, vision_config=v)


class Text(nn.Module):
    def __init__(s, m):
        super().__init__()
        s.m = m

    def forward(s, input_ids):
        return s.m.get_text_features(input_ids, None, "argmax")


class Vision(nn.Module):
    def __init__(s, m):
        super().__init__()
        s.m = m

    def forward(s, pixel_values):
        return s.m.get_image_features(pixel_values)


def main(outdir, opset):
    torch.manual_seed(0)
    for act, patch in (("quick_gelu", 32), ("gelu", 16)):
        m = R.CLIPModel(config(act, patch)).eval()
        name = act.replace("_", "")
        ids = torch.randint(3, 1000, (2, 9))
        torch.onnx.export(Text(m), (ids,), f"{outdir}/clip_text_tiny_{name}.onnx", input_names=["input_ids"],
                          output_names=["text_embeds"], opset_version=opset,
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "text_embeds": {0: "batch_size"}})
        px = torch.randn(2, 3, 224, 224)
        torch.onnx.export(Vision(m), (px,), f"{outdir}/clip_vision_tiny_{name}.onnx", input_names=["pixel_values"],
                          output_names=["image_embeds"], opset_version=opset,
                          dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
