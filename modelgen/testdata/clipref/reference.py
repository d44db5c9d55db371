"""Computes text and image embeddings of the generated tiny CLIP checkpoints
(modelgen's CLIPArchs: config.json + model.safetensors in transformers'
CLIPModel layout) as transformers' CLIPModel computes them, and writes them
to goldens.json for modelgen's TestCLIPGraphsMatchPyTorch, which runs the
graphs clipgraph builds from the same files through ONNX Runtime.

The modules below are written from transformers' modeling_clip
(CLIPTextEmbeddings, CLIPVisionEmbeddings, CLIPAttention with
eager_attention_forward, CLIPMLP, CLIPEncoderLayer, CLIPEncoder,
CLIPTextTransformer with its causal and padding masks and both pooling
rules, CLIPVisionTransformer, CLIPModel's projections); the parameter
names are transformers', so the checkpoint loads with strict=True. No
transformers package is needed.

Inputs: for each architecture, four token sequences of different lengths
(BOS, random ids, EOS, padded to the longest with the tokenizer's pad id,
with the attention mask the processor returns) and two images whose
pixel values follow a formula the Go test repeats: value i of image b
(flattened C, H, W) is ((i*(7919 + 3989b) + 104729b) mod 1000)/250 - 2.

Run with Debian's python3 (torch 1.13, numpy): see regen.sh.
"""
import json, struct, sys
import numpy as np
import torch
from torch import nn

ARCHS = ["b32-224-quickgelu", "b16-224-quickgelu", "b16-224-gelu", "b32-384-xlmv"]


def load_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    data = b[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        s, e = info["data_offsets"]
        arr = np.frombuffer(data[s:e], dtype="<f4").copy().reshape(info["shape"])
        out[name] = torch.from_numpy(arr)
    return out


def activation(name):
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return nn.functional.gelu
    raise ValueError(name)


class CLIPAttention(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        s.embed_dim = cfg["hidden_size"]
        s.num_heads = cfg["num_attention_heads"]
        s.head_dim = s.embed_dim // s.num_heads
        s.scale = s.head_dim ** -0.5
        s.k_proj = nn.Linear(s.embed_dim, s.embed_dim)
        s.v_proj = nn.Linear(s.embed_dim, s.embed_dim)
        s.q_proj = nn.Linear(s.embed_dim, s.embed_dim)
        s.out_proj = nn.Linear(s.embed_dim, s.embed_dim)

    def forward(s, hidden_states, attention_mask=None, causal_attention_mask=None):
        bsz, seq_len, embed_dim = hidden_states.shape
        shape = (bsz, seq_len, -1, s.head_dim)
        queries = s.q_proj(hidden_states).view(shape).transpose(1, 2)
        keys = s.k_proj(hidden_states).view(shape).transpose(1, 2)
        values = s.v_proj(hidden_states).view(shape).transpose(1, 2)
        if attention_mask is not None and causal_attention_mask is not None:
            attention_mask = attention_mask + causal_attention_mask
        elif causal_attention_mask is not None:
            attention_mask = causal_attention_mask
        # eager_attention_forward
        attn_weights = torch.matmul(queries, keys.transpose(-1, -2)) * s.scale
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(queries.dtype)
        attn_output = torch.matmul(attn_weights, values).transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(bsz, seq_len, embed_dim).contiguous()
        return s.out_proj(attn_output)


class CLIPMLP(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        s.activation_fn = activation(cfg["hidden_act"])
        s.fc1 = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        s.fc2 = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])

    def forward(s, x):
        return s.fc2(s.activation_fn(s.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        s.self_attn = CLIPAttention(cfg)
        s.layer_norm1 = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        s.mlp = CLIPMLP(cfg)
        s.layer_norm2 = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])

    def forward(s, hidden_states, attention_mask, causal_attention_mask):
        residual = hidden_states
        hidden_states = s.layer_norm1(hidden_states)
        hidden_states = s.self_attn(hidden_states, attention_mask, causal_attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = s.layer_norm2(hidden_states)
        hidden_states = s.mlp(hidden_states)
        return residual + hidden_states


class CLIPEncoder(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        s.layers = nn.ModuleList([CLIPEncoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(s, x, attention_mask=None, causal_attention_mask=None):
        for layer in s.layers:
            x = layer(x, attention_mask, causal_attention_mask)
        return x


class CLIPTextEmbeddings(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        s.token_embedding = nn.Embedding(cfg["vocab_size"], d)
        s.position_embedding = nn.Embedding(cfg["max_position_embeddings"], d)
        s.register_buffer("position_ids", torch.arange(cfg["max_position_embeddings"]).expand((1, -1)), persistent=False)

    def forward(s, input_ids):
        seq_length = input_ids.shape[-1]
        position_ids = s.position_ids[:, :seq_length]
        return s.token_embedding(input_ids) + s.position_embedding(position_ids)


def causal_4d_mask(bsz, tgt_len, dtype):
    # _create_4d_causal_attention_mask / AttentionMaskConverter._make_causal_mask
    mask = torch.full((tgt_len, tgt_len), torch.finfo(dtype).min)
    cond = torch.arange(tgt_len)
    mask.masked_fill_(cond < (cond + 1).view(tgt_len, 1), 0)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len).to(dtype)


def expand_mask(mask, dtype, tgt_len):
    # _prepare_4d_attention_mask / AttentionMaskConverter._expand_mask
    bsz, src_len = mask.size()
    expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


class CLIPTextTransformer(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        s.config = cfg
        s.embeddings = CLIPTextEmbeddings(cfg)
        s.encoder = CLIPEncoder(cfg)
        s.final_layer_norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        s.eos_token_id = cfg["eos_token_id"]

    def forward(s, input_ids, attention_mask, pooling):
        hidden_states = s.embeddings(input_ids)
        causal = causal_4d_mask(input_ids.shape[0], input_ids.shape[1], hidden_states.dtype)
        mask = None
        if attention_mask is not None:
            mask = expand_mask(attention_mask, hidden_states.dtype, input_ids.shape[1])
        last = s.final_layer_norm(s.encoder(hidden_states, mask, causal))
        rows = torch.arange(last.shape[0])
        if pooling == "argmax":  # CLIPModel when eos_token_id == 2
            return last[rows, input_ids.to(dtype=torch.int, device=last.device).argmax(dim=-1)]
        # CLIPModel otherwise: the first eos_token_id
        return last[rows, (input_ids.to(dtype=torch.int) == s.eos_token_id).int().argmax(dim=-1)]


class CLIPVisionEmbeddings(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        s.class_embedding = nn.Parameter(torch.randn(d))
        s.patch_embedding = nn.Conv2d(cfg["num_channels"], d, kernel_size=cfg["patch_size"], stride=cfg["patch_size"], bias=False)
        n = (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1
        s.position_embedding = nn.Embedding(n, d)
        s.register_buffer("position_ids", torch.arange(n).expand((1, -1)), persistent=False)

    def forward(s, pixel_values):
        b = pixel_values.shape[0]
        patch_embeds = s.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        class_embeds = s.class_embedding.expand(b, 1, -1)
        embeddings = torch.cat([class_embeds, patch_embeds], dim=1)
        return embeddings + s.position_embedding(s.position_ids)


class CLIPVisionTransformer(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        s.embeddings = CLIPVisionEmbeddings(cfg)
        s.pre_layrnorm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        s.encoder = CLIPEncoder(cfg)
        s.post_layernorm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])

    def forward(s, pixel_values):
        h = s.pre_layrnorm(s.embeddings(pixel_values))
        last = s.encoder(h)
        return s.post_layernorm(last[:, 0, :])


class CLIPModel(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        t, v = cfg["text_config"], cfg["vision_config"]
        s.text_model = CLIPTextTransformer(t)
        s.vision_model = CLIPVisionTransformer(v)
        s.visual_projection = nn.Linear(v["hidden_size"], cfg["projection_dim"], bias=False)
        s.text_projection = nn.Linear(t["hidden_size"], cfg["projection_dim"], bias=False)
        s.logit_scale = nn.Parameter(torch.tensor(2.6592))

    def get_text_features(s, input_ids, attention_mask, pooling):
        return s.text_projection(s.text_model(input_ids, attention_mask, pooling))

    def get_image_features(s, pixel_values):
        return s.visual_projection(s.vision_model(pixel_values))


def token_batch(cfg, arch, gen):
    t = cfg["text_config"]
    if arch == "b32-384-xlmv":
        bos, eos, pad, lo, hi = 0, 2, 1, 4, t["vocab_size"]
    else:
        bos, eos, pad, lo, hi = 49406, 49407, 49407, 1, 49406
    lengths = [5, 17, 9, 30]
    seqs = []
    for n in lengths:
        body = torch.randint(lo, hi, (n,), generator=gen).tolist()
        seqs.append([bos] + body + [eos])
    width = max(len(x) for x in seqs)
    ids = [x + [pad] * (width - len(x)) for x in seqs]
    mask = [[1] * len(x) + [0] * (width - len(x)) for x in seqs]
    return ids, mask


def pixels(cfg, batch):
    v = cfg["vision_config"]
    c, s = v["num_channels"], v["image_size"]
    n = c * s * s
    out = np.empty((batch, c, s, s), dtype=np.float32)
    for b in range(batch):
        i = np.arange(n, dtype=np.int64)
        vals = ((i * (7919 + 3989 * b) + b * 104729) % 1000).astype(np.float64) / 250 - 2
        out[b] = vals.astype(np.float32).reshape(c, s, s)
    return torch.from_numpy(out)


def rounded(t):
    return [[float("%.7g" % x) for x in row] for row in t.tolist()]


def main(src, out):
    torch.manual_seed(0)
    goldens = {}
    for arch in ARCHS:
        with open(f"{src}/{arch}/config.json") as f:
            cfg = json.load(f)
        model = CLIPModel(cfg).eval()
        model.load_state_dict(load_safetensors(f"{src}/{arch}/model.safetensors"), strict=True)
        gen = torch.Generator().manual_seed(1234)
        ids, mask = token_batch(cfg, arch, gen)
        ids_t, mask_t = torch.tensor(ids), torch.tensor(mask)
        with torch.no_grad():
            text = {p: rounded(model.get_text_features(ids_t, mask_t, p)) for p in ("eos", "argmax")}
            image = rounded(model.get_image_features(pixels(cfg, 2)))
        goldens[arch] = {
            "config": cfg,
            "input_ids": ids,
            "attention_mask": mask,
            "text_embeds": text,
            "image_embeds": image,
        }
        print(arch, "done", file=sys.stderr)
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "seed": 7, "archs": goldens}, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
