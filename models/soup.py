"""Averages the weights of first models trained from one pruned base with different
seeds (a uniform "model soup"), and exports the average as train.py exports a model.
One run's figures move with its seed (model card, attempts 35-39); the average of
several is one model that depends less on any of them.

    python models/train.py --natural --chat --save-pruned models/out/pruned40 --target models/out/soup40s13
    python models/train.py --natural --chat --base models/out/pruned40 --width 0 --seed 14 --target models/out/soup40s14
    python models/train.py --natural --chat --base models/out/pruned40 --width 0 --seed 15 --target models/out/soup40s15
    python models/soup.py --base models/out/pruned40 --target models/out/soup40 models/out/soup40s13 models/out/soup40s14 models/out/soup40s15
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import train  # noqa: E402


def average(states):
    """The mean of each tensor over `states` (same keys and shapes), in its own dtype."""
    return {k: (sum(s[k].double() for s in states) / len(states)).to(states[0][k].dtype) for k in states[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, required=True, help="the pruned base every run started from (train.py --save-pruned)")
    ap.add_argument("--target", type=Path, required=True)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embedding-bits", type=int, default=8, help="as train.py --embedding-bits (4 for the confirmer, attempt 43)")
    ap.add_argument("runs", type=Path, nargs="+", help="train.py target directories, each with its final.pt")
    args = ap.parse_args()
    from transformers import BertModel

    runs = [torch.load(run / "final.pt", weights_only=False) for run in args.runs]
    bert = BertModel.from_pretrained(str(args.base), add_pooling_layer=False, attn_implementation="eager").eval()
    bert.encoder.layer = bert.encoder.layer[: args.layers]
    head = torch.nn.Linear(bert.config.hidden_size, 1)
    bert.load_state_dict(average([r["bert"] for r in runs]))
    head.load_state_dict(average([r["head"] for r in runs]))
    head.eval()
    print(f"averaged {len(runs)} runs: {', '.join(str(r) for r in args.runs)}", flush=True)
    train.export(bert, head, args.base, args.target, runs[0]["check"], embedding_bits=args.embedding_bits)


if __name__ == "__main__":
    main()
