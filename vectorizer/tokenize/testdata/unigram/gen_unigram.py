#!/usr/bin/python3
"""Writes tokenizer.json: a SentencePiece Unigram tokenizer of the XLM-R
type (the type of XLM-V's, which facebook/metaclip-2-worldwide-* ship),
as Hugging Face's tokenizer.json holds it.

SentencePiece (Debian's python3-sentencepiece) trains a small Unigram model
with nmt_nfkc normalization on the texts of ../corpus.jsonl, which gives a
real precompiled_charsmap (SentencePiece's double-array trie and
normalized strings). The model is converted as transformers'
XLMRobertaConverter (an SpmConverter) does: fairseq ids (<s> 0, <pad> 1,
</s> 2, <unk> 3, the pieces from id 4, <mask> last), normalizer
Sequence[Precompiled, Strip(right), Replace(" {2,}", "▁")], Metaspace
pre-tokenizer (prepend_scheme "always"), Unigram with unk_id 3, "<s> $A
</s>" post-processor, and the added tokens XLMRobertaTokenizerFast has
(<mask> with lstrip).

usage: /usr/bin/python3 gen_unigram.py  (run by ../regen.sh)
"""
import base64
import collections
import io
import json
import os
import re

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_SIZE = 8000


def corpus_texts():
    """The texts of ../corpus.jsonl but its sweeps over code points, which
    would make every rare character a required piece."""
    sweep = re.compile(r"(a.b ){8}", re.S)
    out = []
    with open(os.path.join(HERE, "..", "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if "text" in o and o["text"].strip() and not sweep.search(o["text"]):
                out.append(o["text"].replace("\n", " ").replace("\r", " "))
    return out


def train():
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_texts()),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc",
        character_coverage=0.9995,
        byte_fallback=False,
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    proto = model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto


def added(id_, content, lstrip=False):
    return collections.OrderedDict([
        ("id", id_), ("content", content), ("single_word", False), ("lstrip", lstrip),
        ("rstrip", False), ("normalized", False), ("special", True)])


def convert(proto):
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    vocab += [[p.piece, p.score] for p in proto.pieces[3:]]
    vocab += [["<mask>", 0.0]]
    charsmap = base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode("ascii")
    special = lambda t, i: {"id": t, "ids": [i], "tokens": [t]}
    return collections.OrderedDict([
        ("version", "1.0"),
        ("truncation", None),
        ("padding", None),
        ("added_tokens", [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"),
                          added(len(vocab) - 1, "<mask>", lstrip=True)]),
        ("normalizer", {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"},
        ]}),
        ("pre_tokenizer", {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}),
        ("post_processor", collections.OrderedDict([
            ("type", "TemplateProcessing"),
            ("single", [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "</s>", "type_id": 0}}]),
            ("pair", [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                      {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}]),
            ("special_tokens", {"<s>": special("<s>", 0), "</s>": special("</s>", 2)}),
        ])),
        ("decoder", {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}),
        ("model", collections.OrderedDict([
            ("type", "Unigram"), ("unk_id", 3), ("vocab", vocab), ("byte_fallback", False)])),
    ])


def main():
    tok = convert(train())
    with open(os.path.join(HERE, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
