"""Build the examples shipped inside the package (mergeopt/examples/) from configs/ and data/.

The examples are the shipped configs with their inputs, laid out so that a copy runs on
its own (``mergeopt example hull_pcn DIR``): ``DIR/hull_pcn.yaml`` reads ``DIR/data/...``.
Boundary files keep only the areas the examples use. Run it after changing a shipped
config or its data; a test checks the package's copy is up to date.

    python tools/build_examples.py            # rewrite mergeopt/examples/
    python tools/build_examples.py --out DIR  # build into another folder
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The shipped configs that become examples.
EXAMPLES = ("hull_pcn", "hull_eight_groups", "somerset_yeovil_takeover")
#: Boundary files cut down to the features the examples name (file: field).
CUT = {"data/nhs/boundaries/boundaries_ccg21.geojson": "ccg21_code"}
_PATH = re.compile(r"(?<=: )\.\./(data/[^\s#]+)")


def build(out: Path) -> None:
    """Write every example config and the data files it reads into ``out``."""
    if out.exists():
        for item in out.iterdir():
            if item.name not in {"__init__.py", "__pycache__"}:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    out.mkdir(parents=True, exist_ok=True)
    files: set[str] = {"data/README.md"}  # where the data come from, and their licences
    kept: dict[str, set[str]] = {}
    for name in EXAMPLES:
        text = (ROOT / "configs" / f"{name}.yaml").read_text(encoding="utf-8")
        files.update(_PATH.findall(text))
        values = re.search(r"boundary_values: \[([^\]]*)\]", text)
        for key in CUT:
            if values and key in text:
                kept.setdefault(key, set()).update(v.strip() for v in values[1].split(","))
        (out / f"{name}.yaml").write_text(_PATH.sub(r"\1", text), encoding="utf-8")
    for relative in sorted(files):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative in CUT:
            _cut(ROOT / relative, target, CUT[relative], kept.get(relative, set()))
        else:
            shutil.copyfile(ROOT / relative, target)


def _cut(source: Path, target: Path, field: str, values: set[str]) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"][field] in values]
    target.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "mergeopt" / "examples")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
