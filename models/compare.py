"""Side by side: our defender (`pingone-mcp scan --jsonl`, full mode) and StackOne
Defender 0.9.4 on the same held-out rows (models/out/eval.jsonl, written by train.py).

    ~/.cache/pingone-mcp/venv/bin/python models/compare.py --bin $CARGO_TARGET_DIR/debug/pingone-mcp

Up to --per-class rows per class per set (seeded). Prints a Markdown table and writes
models/out/compare.json.
"""

import argparse
import json
import os
import random
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


MULTILINGUAL = "identity records in 7 other languages (ours)"
PROSE = "benign prose: speeches, a novel, e-mail (FPR)"
GUIDANCE = "benign tool and API guidance (FPR)"
LATER_SETS = {MULTILINGUAL, PROSE, GUIDANCE}


def set_name(source):
    s = source.split(":")[0]
    if s.startswith("injecagent"):
        return "injecagent (direct harm)"
    if s.startswith("bipia"):
        return "bipia"
    if s.startswith("identity_ml"):
        return MULTILINGUAL
    if s.startswith("prose"):
        return PROSE
    if s.startswith("guidance"):
        return GUIDANCE
    if s.startswith("identity"):
        return "identity records (ours)"
    return s


def metrics(rows):
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    tpr = sum(r["flagged"] for r in pos) / len(pos) if pos else None
    fpr = sum(r["flagged"] for r in neg) / len(neg) if neg else None
    if tpr is None:
        bacc = 1 - fpr
    elif fpr is None:
        bacc = tpr
    else:
        bacc = (tpr + 1 - fpr) / 2
    auc = None
    if pos and neg:
        wins = 0.0
        for p in pos:
            for n in neg:
                wins += 1.0 if p["score"] > n["score"] else 0.5 if p["score"] == n["score"] else 0.0
        auc = wins / (len(pos) * len(neg))
    ms = sorted(r["ms"] for r in rows)
    return {"n": len(rows), "pos": len(pos), "neg": len(neg), "tpr": tpr, "fpr": fpr, "bacc": bacc, "auc": auc,
            "p50": ms[len(ms) // 2], "p95": ms[min(len(ms) - 1, int(len(ms) * 0.95))]}


def stackone(rows):
    """StackOne's verdict on each row, cached by text (a new set scores only its rows)."""
    cache = OUT / "stackone_by_text.json"
    saved = json.load(open(cache)) if cache.exists() else {}
    todo = [r for r in rows if r["text"] not in saved]
    if todo:
        from stackone_defender import create_prompt_defense

        defense = create_prompt_defense(enable_tier2=True)
        defense.warmup_tier2()
        for r in todo:
            try:
                value = json.loads(r["text"])
            except (ValueError, TypeError):
                value = r["text"]
            t0 = time.perf_counter()
            res = defense.defend_tool_result(value, "tool")
            ms = (time.perf_counter() - t0) * 1e3
            saved[r["text"]] = {"flagged": not res.allowed, "score": res.tier2_score or 0.0, "ms": ms}
        json.dump(saved, open(cache, "w"))
    # Flag at StackOne's documented threshold (0.52 on the Tier 2 score): in its
    # default mode `allowed` stays true and only the content is sanitised.
    return [dict(x, flagged=x["flagged"] or x["score"] >= 0.52) for x in (saved[r["text"]] for r in rows)]


def ours(rows, binary, mode, threshold=None, model=None):
    """Our verdict on each row: `pingone-mcp scan --jsonl` in `mode`, with the defender
    model directory `model` (default: the binary's own search)."""
    lines = "".join(json.dumps({"text": r["text"], "label": r["label"], "source": r["source"]}) + "\n" for r in rows)
    cmd = [binary, "scan", "--jsonl", "-", "--defender", mode] + (["--threshold", str(threshold)] if threshold else [])
    env = {**os.environ, "PINGONE_MCP_DEFENDER_MODEL": str(model)} if model else None
    proc = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=True, env=env)
    if proc.stderr.strip():
        print(proc.stderr.strip())
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return [{"flagged": l["flagged"], "score": l["score"], "ms": l["ms"], "reasons": l.get("reasons", [])} for l in out if "summary" not in l]


def is_trigger_negative(r):
    """Benign text with trigger words, in dev (generated hard negatives) or eval (our
    held-out identity negatives and InjecGuard's NotInject rows)."""
    s = r["source"]
    return r["label"] == 0 and (s.endswith("trigger_words") or "NotInject" in s or s.startswith("hard_negative"))


def choose_threshold(binary, dev_rows):
    """The threshold for DEFAULT_THRESHOLD, on the dev split only (part of train, never
    eval): the best balanced accuracy among thresholds that keep dev FPR <= 3% overall,
    on dev's benign text with trigger words, and on each benign genre it holds (prose,
    tool guidance)."""
    rows = [json.loads(line) for line in open(dev_rows)]
    scored = [dict(r, **s) for r, s in zip(rows, ours(rows, binary, "full"))]
    pos = [r for r in scored if r["label"] == 1]
    neg = [r for r in scored if r["label"] == 0]
    trig = [r for r in scored if is_trigger_negative(r)]
    # Benign genres some configurations train on (a dev without them is unconstrained).
    genres = [g for g in ([r for r in scored if r["source"].startswith(k)] for k in ("prose", "guidance")) if g]

    def rates(t):
        rate = lambda rs: sum(r["score"] >= t for r in rs) / max(len(rs), 1)
        return rate(pos), rate(neg), rate(trig)

    ok = []
    for t in [x / 100 for x in range(5, 100)]:
        tpr, fpr, tfpr = rates(t)
        genre_fprs = [sum(r["score"] >= t for r in g) / len(g) for g in genres]
        if fpr <= 0.03 and tfpr <= 0.03 and all(x <= 0.03 for x in genre_fprs):
            ok.append((t, (tpr + 1 - fpr) / 2, tpr, fpr, tfpr))
    # Balanced accuracy on dev is flat over a wide range: take the highest threshold
    # within 0.005 of the best, since false positives are what makes `full` unusable.
    top = max((b for _, b, *_ in ok), default=None)
    best = max((x for x in ok if x[1] >= top - 0.005), key=lambda x: x[0]) if ok else (0.5, float("nan"), float("nan"), float("nan"), float("nan"))
    print(f"dev ({len(pos)} pos, {len(neg)} neg of which {len(trig)} trigger-word): threshold {best[0]:.2f} -> "
          f"balanced acc {best[1]:.3f}, TPR {best[2]:.3f}, FPR {best[3]:.3f}, trigger-word FPR {best[4]:.3f}")
    for r in scored:
        if r["label"] == 0 and r["score"] >= best[0]:
            print("  FP", r["source"], round(r["score"], 3), r["text"][:150].replace("\n", " "))
    for t in (0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
        print("  at {}: TPR {:.3f} FPR {:.3f} trigger-word FPR {:.3f}".format(t, *rates(t)))
    print(f"dev macro balanced accuracy at {best[0]:.2f} (mean over sources with both classes): {macro(scored, best[0]):.3f}")


def report_macro(binary, dev_rows, threshold):
    """Per-source balanced accuracy on `dev_rows` at `threshold`, and their mean over the
    English sources (the multilingual rows only some configurations train on are left
    out of the mean, so configurations with and without them compare)."""
    rows = [json.loads(line) for line in open(dev_rows)]
    scored = [dict(r, **s) for r, s in zip(rows, ours(rows, binary, "full"))]
    english = [r for r in scored if not r["source"].startswith("identity_ml")]
    for name, value in sorted(per_source(scored, threshold).items()):
        print(f"  {name:24} {value:.3f}")
    if per_source(english, threshold):
        print(f"dev macro balanced accuracy, English sources, at {threshold:.2f}: {macro(english, threshold):.3f}")
    for kind in ("prose", "guidance"):
        negatives = [r for r in scored if r["source"].startswith(kind)]
        if negatives:
            flagged = sum(r["score"] >= threshold for r in negatives)
            print(f"dev FPR on benign {kind} at {threshold:.2f}: {flagged / len(negatives):.3f} ({flagged} of {len(negatives)})")


def macro(scored, threshold):
    """Balanced accuracy per source, averaged: how models are compared (the pooled figure
    is dominated by the many generated rows, and every set must be won, not the sum)."""
    baccs = list(per_source(scored, threshold).values())
    return sum(baccs) / len(baccs)


def per_source(scored, threshold):
    """Balanced accuracy of each source with both classes."""
    by = {}
    for r in scored:
        s = r["source"].split(":")[0]
        by.setdefault("injecagent" if s.startswith("injecagent") else s, []).append(r)
    baccs = {}
    for name, rows in by.items():
        pos = [r for r in rows if r["label"] == 1]
        neg = [r for r in rows if r["label"] == 0]
        if pos and neg:
            tpr = sum(r["score"] >= threshold for r in pos) / len(pos)
            fpr = sum(r["score"] >= threshold for r in neg) / len(neg)
            baccs[name] = (tpr + 1 - fpr) / 2
    return baccs


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--per-class", type=int, default=250)
    ap.add_argument("--skip-stackone", action="store_true")
    ap.add_argument("--ours-threshold", type=float, default=None, help="our threshold (default: the binary's DEFAULT_THRESHOLD)")
    ap.add_argument("--threshold", action="store_true", help="choose the threshold on the dev split and stop")
    ap.add_argument("--only-stackone", action="store_true", help="score and cache StackOne's verdicts only")
    ap.add_argument("--dev-rows", type=Path, default=OUT / "dev.jsonl", help="dev rows for --threshold and --macro-at (see common_dev.py)")
    ap.add_argument("--macro-at", type=float, default=None, help="print per-source dev balanced accuracy at this threshold and stop")
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(OUT / "eval.jsonl")]
    rng = random.Random(7)
    by_set = {}
    for r in rows:
        by_set.setdefault(set_name(r["source"]), []).append(r)
    chosen = []
    for name, rs in sorted(by_set.items()):
        # A set added later draws from its own stream, so the other sets keep their rows.
        draw = random.Random(8) if name in LATER_SETS else rng
        for label in (0, 1):
            part = [r for r in rs if r["label"] == label]
            draw.shuffle(part)
            chosen += part[: args.per_class]
    # Benign text with trigger words: our identity hard negatives and InjecGuard's NotInject rows.

    if args.threshold:
        choose_threshold(args.bin, args.dev_rows)
        return
    if args.macro_at is not None:
        report_macro(args.bin, args.dev_rows, args.macro_at)
        return
    if args.only_stackone:
        stackone(chosen)
        return
    results = {"ours (full)": ours(chosen, args.bin, "full", args.ours_threshold), "ours (patterns only)": ours(chosen, args.bin, "patterns")}
    if not args.skip_stackone:
        results["StackOne Defender 0.9.4"] = stackone(chosen)
    json.dump({k: [dict(s, label=r["label"], source=r["source"]) for r, s in zip(chosen, v)] for k, v in results.items()},
              open(OUT / "compare_rows_scored.json", "w"))
    table = {}
    for system, scored in results.items():
        joined = [dict(r, **s) for r, s in zip(chosen, scored)]
        sets = {}
        for r in joined:
            sets.setdefault(set_name(r["source"]), []).append(r)
        sets["benign with trigger words (FPR)"] = [r for r in joined if is_trigger_negative(r)]
        sets["ALL"] = joined
        table[system] = {k: metrics(v) for k, v in sets.items()}
    json.dump(table, open(OUT / "compare.json", "w"), indent=1)
    print("| set | system | n (pos/neg) | TPR | FPR | balanced acc. | AUC | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in list(next(iter(table.values())).keys()):
        for system in table:
            m = table[system][name]
            print(f"| {name} | {system} | {m['n']} ({m['pos']}/{m['neg']}) | {fmt(m['tpr'])} | {fmt(m['fpr'])} | {fmt(m['bacc'])} | {fmt(m['auc'])} | {m['p50']:.2f} | {m['p95']:.2f} |")


if __name__ == "__main__":
    main()
