"""Benign text in other languages that nobody on this project wrote: interface messages
and their translations ("Enter a valid email address.", "Are you sure you want to
delete the selected users?"). They are instructions to a person, the kind of text a
model that reads only English takes for an order to an agent.

    ~/.cache/pingone-mcp/venv/bin/python models/interface_text.py --bin target/debug/pingone-mcp [--model DIR ...] [--stackone]

Two projects' catalogues, fetched with `pip download` into
~/.cache/pingone-mcp/catalogues/ at first use and never committed:

- Django 5.1.4 (BSD-3-Clause), split in halves by a stable hash of each English
  message, so a message and all its translations fall in one half. The training half's
  messages in the seven other languages, with injected twins, are what
  `train.py --interface-rows N` trains on (none of those models was adopted; attempts
  11–14 in MODEL_CARD.md; attempt 11 ran `training_rows` as of commit 0437ad7, with
  English and no twins, attempt 12 as of 7ae0d0a, without twins); the other half is
  measured.
- django-allauth 65.22.1 (MIT): sign-up, sign-in, e-mail, password and MFA messages,
  the nearest thing to an identity tenant's own text. Never trained on; messages
  whose English text is in Django's training half are left out.

For English and each language of multilingual_data.py, up to 300 distinct messages of
4+ words (what the scanner's classifier reads) of each measured set are drawn with a
fixed seed; each model directory (default: the committed models/) scans them in full
mode, and the script prints the share withheld, per language, and how many of
multilingual_data.fresh_dev()'s injections in those languages each catches.
"""

import argparse
import ast
import hashlib
import random
import subprocess
import zipfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "pingone-mcp" / "catalogues"
# name -> (pip requirement, glob of a language's .po files with {folder})
PROJECTS = {
    "django": ("django==5.1.4", "django/**/locale/{folder}/LC_MESSAGES/django.po"),
    "allauth": ("django-allauth==65.22.1", "allauth/locale/{folder}/LC_MESSAGES/django.po"),
}
# Language -> locale folder; English is the msgids of the French catalogues.
LANGS = {"en": "fr", "de": "de", "fr": "fr", "es": "es", "pt": "pt_BR", "it": "it", "nl": "nl", "pl": "pl"}
PER_LANG = 300
MEASURED = ["django", "allauth"]


def po_root(project):
    """The project's .po files, extracted once from its wheel."""
    requirement, _ = PROJECTS[project]
    folder = CACHE / project
    root = folder / "unpacked"
    if not root.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pip", "download", "--no-deps", "--quiet", requirement, "-d", str(folder)], check=True)
        wheel = next(folder.glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(root, members=[n for n in z.namelist() if n.endswith(".po")])
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


def in_training_half(msgid):
    return int(hashlib.sha256(msgid.encode()).hexdigest(), 16) % 2 == 0


def catalogue(project):
    """{language: {text: msgid}} of the project's messages of 4+ words."""
    root = po_root(project)
    out = {}
    for lang, folder in LANGS.items():
        texts = {}
        for po in sorted(root.glob(PROJECTS[project][1].format(folder=folder))):
            for msgid, msgstr in messages(po):
                text = msgid if lang == "en" else msgstr
                if sum(any(c.isalpha() for c in w) for w in text.split()) >= 4:
                    texts.setdefault(text, msgid)
        out[lang] = texts
    return out


def draw(texts, n, seed):
    picked = sorted(texts)
    random.Random(seed).shuffle(picked)
    return picked[:n]


def training_rows(per_lang):
    """Up to per_lang messages a language from Django's training half, for train.py, and
    an injected twin of every other one: the message with one of multilingual_data.py's
    training injections in the same language before or after it. Without the twins the
    confirmer learnt that text in another language is benign (attempts 11 and 12 in
    MODEL_CARD.md). Not English: it was never withheld much, and English messages to a
    reader ("Please enter the correct username and password") are the shape of BIPIA's
    table injections."""
    import identity_data
    import multilingual_data

    rng = random.Random(12)
    rows = []
    for lang, texts in catalogue("django").items():
        if lang == "en":
            continue
        half = {t: m for t, m in texts.items() if in_training_half(m)}
        injections = [t for i, t in enumerate(multilingual_data.TEXTS[lang][1]) if i % 2 == 0]
        for i, text in enumerate(draw(half, per_lang, 12)):
            rows.append({"text": text, "label": 0, "source": f"interface:{lang}", "group": half[text]})
            if i % 2 == 0:
                attack = identity_data._fill(rng.choice(injections), rng)
                twin = f"{attack} {text}" if rng.random() < 0.5 else f"{text} {attack}"
                rows.append({"text": twin, "label": 1, "source": f"interface_injected:{lang}", "group": half[text]})
    return rows


def measured_rows():
    """Django's measured half and allauth (less what Django's training half holds)."""
    django = catalogue("django")
    trained = {m for texts in django.values() for m in texts.values() if in_training_half(m)}
    trained_text = {t for texts in django.values() for t, m in texts.items() if in_training_half(m)}
    out = []
    for project, cat in (("django", django), ("allauth", catalogue("allauth"))):
        for lang, texts in cat.items():
            kept = [t for t, m in texts.items() if m not in trained and t not in trained_text]
            out += [{"text": t, "label": 0, "source": f"{project}:{lang}"} for t in draw(kept, PER_LANG, 11)]
    return out


def report(name, data, verdicts):
    for project in MEASURED:
        shares, other = [], []
        for lang in LANGS:
            flagged = [v["flagged"] for r, v in zip(data, verdicts) if r["source"] == f"{project}:{lang}"]
            shares.append(f"{lang} {sum(flagged)}/{len(flagged)} ({sum(flagged) / len(flagged):.3f})")
            if lang != "en":
                other += flagged
        print(f"{name} [{project}]: withheld " + ", ".join(shares) + f"; other languages pooled {sum(other)}/{len(other)} ({sum(other) / len(other):.3f})")


def main():
    from compare import ours, stackone
    from multilingual_data import fresh_dev

    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the pingone-mcp binary")
    ap.add_argument("--model", action="append", help="a defender model directory (repeatable; default: models/)")
    ap.add_argument("--threshold", type=float, default=None, help="our threshold (default: the binary's)")
    ap.add_argument("--stackone", action="store_true", help="also StackOne Defender 0.9.4, as compare.py runs it")
    args = ap.parse_args()
    data, fresh = measured_rows(), fresh_dev()
    for model in args.model or [str(Path(__file__).parent)]:
        report(model, data, ours(data, args.bin, "full", threshold=args.threshold, model=model))
        # The other side of the trade: injections in those languages, in no template of ours.
        caught = sum(v["flagged"] for v in ours(fresh, args.bin, "full", threshold=args.threshold, model=model))
        print(f"{model}: fresh other-language injections caught {caught}/{len(fresh)}")
    if args.stackone:
        report("StackOne Defender 0.9.4", data, stackone(data))


if __name__ == "__main__":
    main()
