"""Exports DistilBERT as transformers' DistilBertModel computes it (eager
attention, exact GELU, LayerNorm eps 1e-12) with torch.onnx, at modelgen's
tiny dimensions and random weights, to distilbert_tiny.onnx.

The file is the reference for modelgen's TestTextGraphOptimizesAsTorchExport:
the graph modelgen generates must come out of ONNX Runtime's optimizer with
the same compute nodes as what torch.onnx exports for the real architecture,
so that the benchmarks on generated models run what users' exports run.
The module below is written from transformers' modeling_distilbert
(embeddings with a position_ids buffer, MultiHeadSelfAttention, FFN,
TransformerBlock); no transformers package is needed.

Run with Debian's python3 (torch 1.13): see regen.sh.
"""
import math, sys, torch
from torch import nn

class Emb(nn.Module):
    def __init__(s, vocab, dim, maxpos):
        super().__init__()
        s.word_embeddings = nn.Embedding(vocab, dim, padding_idx=0)
        s.position_embeddings = nn.Embedding(maxpos, dim)
        s.LayerNorm = nn.LayerNorm(dim, eps=1e-12)
        s.register_buffer("position_ids", torch.arange(maxpos).expand((1, -1)), persistent=False)
    def forward(s, input_ids):
        seq_length = input_ids.size(1)
        position_ids = s.position_ids[:, :seq_length]
        x = s.word_embeddings(input_ids) + s.position_embeddings(position_ids)
        return s.LayerNorm(x)

class MHSA(nn.Module):
    def __init__(s, dim, heads):
        super().__init__()
        s.n_heads, s.dim = heads, dim
        s.q_lin = nn.Linear(dim, dim); s.k_lin = nn.Linear(dim, dim)
        s.v_lin = nn.Linear(dim, dim); s.out_lin = nn.Linear(dim, dim)
    def forward(s, query, key, value, mask):
        bs, q_length, dim = query.size()
        k_length = key.size(1)
        dph = s.dim // s.n_heads
        mask_reshp = (bs, 1, 1, k_length)
        def shape(x): return x.view(bs, -1, s.n_heads, dph).transpose(1, 2)
        def unshape(x): return x.transpose(1, 2).contiguous().view(bs, -1, s.n_heads * dph)
        q = shape(s.q_lin(query)); k = shape(s.k_lin(key)); v = shape(s.v_lin(value))
        q = q / math.sqrt(dph)
        scores = torch.matmul(q, k.transpose(2, 3))
        mask = (mask == 0).view(mask_reshp).expand_as(scores)
        scores = scores.masked_fill(mask, torch.tensor(torch.finfo(scores.dtype).min))
        weights = nn.functional.softmax(scores, dim=-1)
        context = torch.matmul(weights, v)
        return s.out_lin(unshape(context))

class FFN(nn.Module):
    def __init__(s, dim, hidden):
        super().__init__()
        s.lin1 = nn.Linear(dim, hidden); s.lin2 = nn.Linear(hidden, dim)
    def forward(s, x):
        return s.lin2(nn.functional.gelu(s.lin1(x)))

class Block(nn.Module):
    def __init__(s, dim, heads, hidden):
        super().__init__()
        s.attention = MHSA(dim, heads)
        s.sa_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        s.ffn = FFN(dim, hidden)
        s.output_layer_norm = nn.LayerNorm(dim, eps=1e-12)
    def forward(s, x, mask):
        sa = s.sa_layer_norm(s.attention(x, x, x, mask) + x)
        return s.output_layer_norm(s.ffn(sa) + sa)

class DistilBert(nn.Module):
    def __init__(s, vocab, dim, heads, hidden, layers, maxpos):
        super().__init__()
        s.embeddings = Emb(vocab, dim, maxpos)
        s.layer = nn.ModuleList([Block(dim, heads, hidden) for _ in range(layers)])
    def forward(s, input_ids, attention_mask):
        x = s.embeddings(input_ids)
        for l in s.layer:
            x = l(x, attention_mask)
        return x

# modelgen.TextParamsFor(modelgen.Tiny), with a smaller vocabulary (its
# size changes no node).
VOCAB, DIM, HEADS, HIDDEN, LAYERS, MAXPOS = 1000, 32, 2, 64, 2, 512

out, opset = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
m = DistilBert(VOCAB, DIM, HEADS, HIDDEN, LAYERS, MAXPOS).eval()
ids = torch.randint(100, VOCAB, (2, 16)); mask = torch.ones(2, 16, dtype=torch.long)
torch.onnx.export(m, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                  output_names=["last_hidden_state"], opset_version=opset,
                  dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                "last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
