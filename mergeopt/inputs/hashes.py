"""SHA-256 of the files a config reads: run.json records them, a sweep resumes by them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mergeopt.config import Config


def input_hashes(config: Config) -> dict[str, str]:
    """SHA-256 of every input file the config reads, keyed by path."""
    paths = [*config.inputs.files().values(), *config.travel.files().values()]
    return {str(path): _sha256(path) for path in paths}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
