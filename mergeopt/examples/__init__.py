"""The examples shipped with the package: configs with their data, ready to copy and run.

Each example is a config (``<name>.yaml``) beside the ``data/`` folder it reads, built
from the repository's ``configs/`` and ``data/`` (``tools/build_examples.py``).
``mergeopt example NAME DIR`` copies one, with the files it reads, into ``DIR``.
"""

from __future__ import annotations

import re
import shutil
from importlib.resources import as_file, files
from pathlib import Path

from mergeopt._errors import InputError

_DESCRIPTION = re.compile(r"^description:\s*(.+)$", re.MULTILINE)
_DATA = re.compile(r"(?<=: )(data/[^\s#]+)")


def names() -> dict[str, str]:
    """Every example's name and its description, in name order."""
    found = {}
    for item in sorted(files(__name__).iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".yaml"):
            text = item.read_text(encoding="utf-8")
            described = _DESCRIPTION.search(text)
            found[item.name.removesuffix(".yaml")] = described[1].strip() if described else ""
    return found


def copy_example(name: str, folder: Path, *, force: bool = False) -> list[Path]:
    """Copy example ``name`` (its config and every file it reads) into ``folder``.

    Returns the files written, the config first. Nothing is written when a file is
    already there, unless ``force``.

    Raises
    ------
    InputError
        No example of that name, or a file would be replaced without ``force``.
    """
    known = names()
    if name not in known:
        raise InputError(f"no example '{name}': the examples are {', '.join(known)}")
    root = files(__name__)
    config = f"{name}.yaml"
    read = _DATA.findall(root.joinpath(config).read_text(encoding="utf-8"))
    relatives = [config, "data/README.md", *read]
    targets = [Path(folder) / relative for relative in relatives]
    present = [target for target in targets if target.exists()]
    if present and not force:
        raise InputError(
            f"{present[0]}: file exists ({len(present)} of the example's files are there); "
            "use --force to replace them"
        )
    for relative, target in zip(relatives, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        with as_file(root.joinpath(*relative.split("/"))) as source:
            shutil.copyfile(source, target)
    return targets
