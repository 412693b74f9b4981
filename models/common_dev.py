"""The dev rows that no model of several training configurations trained on, for
comparing them on equal terms (each configuration's dev split depends on its seed and
data). Writes models/out/dev_common.jsonl; then, per model,

    PINGONE_MCP_DEFENDER_MODEL=DIR python models/compare.py --bin BIN \\
        --dev-rows models/out/dev_common.jsonl --macro-at THRESHOLD

Usage: python models/common_dev.py "--seed 13" "--seed 14" "--seed 13 --multilingual" ...
(each argument is one configuration's train.py options). The rows come from the first.
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def dev_rows(options):
    subprocess.run([sys.executable, str(HERE / "train.py"), "--dry-run", *options.split()], check=True, capture_output=True)
    return [json.loads(line) for line in open(OUT / "dev.jsonl")]


def main():
    configs = sys.argv[1:]
    if not configs:
        raise SystemExit(__doc__)
    first = dev_rows(configs[0])
    common = {r["text"] for r in first}
    for options in configs[1:]:
        common &= {r["text"] for r in dev_rows(options)}
    rows = [r for r in first if r["text"] in common]
    with open(OUT / "dev_common.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"{len(rows)} dev rows in common to {len(configs)} configurations -> {OUT / 'dev_common.jsonl'}")


if __name__ == "__main__":
    main()
