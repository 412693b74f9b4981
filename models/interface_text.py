"""Benign text in other languages that nobody on this project wrote: Django's interface
messages and their translations ("Enter a valid email address.", "Are you sure you
want to delete the selected users?"). The defender has never trained on them, and
they are instructions to a person, the kind of text a model that reads only English
takes for an order to an agent.

    ~/.cache/pingone-mcp/venv/bin/python models/interface_text.py --bin target/debug/pingone-mcp [--model DIR ...]

Django (BSD-3-Clause) is fetched with `pip download` into
~/.cache/pingone-mcp/django/ at first use and never committed. For English and each
language of multilingual_data.py, up to 300 distinct messages of 4+ words (what the
scanner's classifier reads) are drawn with a fixed seed, and each model directory
(default: the committed models/) scans them in full mode; the script prints the share
withheld, per language.
"""

import argparse
import ast
import random
import subprocess
import zipfile
from pathlib import Path

from compare import ours, stackone

DJANGO = "django==5.1.4"
CACHE = Path.home() / ".cache" / "pingone-mcp" / "django"
# Language -> Django's locale folder; English is the msgids of the French catalogues.
LANGS = {"en": "fr", "de": "de", "fr": "fr", "es": "es", "pt": "pt_BR", "it": "it", "nl": "nl", "pl": "pl"}
PER_LANG = 300


def po_files():
    """Django's .po files, extracted once from its wheel."""
    root = CACHE / "unpacked"
    if not root.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pip", "download", "--no-deps", "--quiet", DJANGO, "-d", str(CACHE)], check=True)
        wheel = next(CACHE.glob("[Dd]jango-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(root, members=[n for n in z.namelist() if n.endswith("django.po")])
    return root


def messages(po):
    """(msgid, msgstr) pairs of a .po file, plural forms and empty translations left out."""
    pairs = []
    for entry in open(po, encoding="utf-8").read().split("\n\n"):
        fields, key = {}, None
        for line in entry.splitlines():
            head, _, rest = line.partition(" ")
            if head in ("msgctxt", "msgid", "msgid_plural", "msgstr") or head.startswith("msgstr["):
                key = head
                fields[key] = ast.literal_eval(rest)
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid") and fields.get("msgstr") and "msgid_plural" not in fields:
            pairs.append((fields["msgid"], fields["msgstr"]))
    return pairs


def rows():
    root = po_files()
    out = []
    for lang, folder in LANGS.items():
        texts = set()
        for po in sorted(root.glob(f"django/**/locale/{folder}/LC_MESSAGES/django.po")):
            for msgid, msgstr in messages(po):
                text = msgid if lang == "en" else msgstr
                if sum(any(c.isalpha() for c in w) for w in text.split()) >= 4:
                    texts.add(text)
        picked = sorted(texts)
        random.Random(11).shuffle(picked)
        out += [{"text": t, "label": 0, "source": f"django:{lang}"} for t in picked[:PER_LANG]]
    return out


def report(name, data, verdicts):
    shares = []
    for lang in LANGS:
        flagged = [v["flagged"] for r, v in zip(data, verdicts) if r["source"] == f"django:{lang}"]
        shares.append(f"{lang} {sum(flagged)}/{len(flagged)} ({sum(flagged) / len(flagged):.3f})")
    print(f"{name}: withheld " + ", ".join(shares))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the pingone-mcp binary")
    ap.add_argument("--model", action="append", help="a defender model directory (repeatable; default: models/)")
    ap.add_argument("--stackone", action="store_true", help="also StackOne Defender 0.9.4, as compare.py runs it")
    args = ap.parse_args()
    data = rows()
    for model in args.model or [str(Path(__file__).parent)]:
        report(model, data, ours(data, args.bin, "full", model=model))
    if args.stackone:
        report("StackOne Defender 0.9.4", data, stackone(data))


if __name__ == "__main__":
    main()
