"""The scenarios of a sweep: a config with some dotted keys changed, and/or the practices
of one region selected (``inputs.select``), each config validated before anything runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mergeopt._errors import InputError
from mergeopt.config import Config, config_key_problem, load_config
from mergeopt.inputs.practices import read_source, select_rows
from mergeopt.runs.sweep.table import COLUMNS


@dataclass(frozen=True)
class Scenario:
    """One problem of a sweep: its folder name, varied values and validated config."""

    name: str
    values: dict[str, Any]
    config: Config


def plan_sweep(
    config: Config | Path | str,
    *,
    vary: Mapping[str, Sequence[Any]] | None = None,
    split_by: str | None = None,
) -> list[Scenario]:
    """The scenarios of a sweep, each with its config validated (nothing is solved).

    Several varied keys give every combination (the first key varies slowest); with
    ``split_by``, each value of that column of the practices table is a region of its
    own (``inputs.select``), outermost. Scenarios are named after their values (a key
    given a single value applies to all and is left out of the names).

    >>> [s.name for s in plan_sweep("configs/hull_pcn.yaml", vary={"groups.count": [7, 8]})]
    ['count=7', 'count=8']

    Raises
    ------
    InputError
        A key that is not in the config schema, a value it rejects, or a ``split_by``
        column that is missing or has empty cells (the message names which).
    """
    base = config if isinstance(config, Config) else load_config(config)
    values_of = {key: list(values) for key, values in (vary or {}).items()}
    _check_plan(base, values_of, split_by)
    regions: list[str | None] = list(_regions(base, split_by)) if split_by else [None]
    short = _short_names(list(values_of))
    # a key given one value is a setting of every scenario, not part of its name
    named = {key for key, values in values_of.items() if len(values) > 1}
    if not named and not split_by:
        named = set(values_of)
    if split_by:
        named.add(split_by)
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for region in regions:
        for combo in itertools.product(*values_of.values()):
            values: dict[str, Any] = {}
            overrides: dict[str, Any] = {"sweep": None}
            if region is not None and split_by is not None:
                values[split_by] = region
                overrides["inputs.select"] = {**base.inputs.select, split_by: [region]}
            values |= dict(zip(values_of, combo, strict=True))
            overrides |= dict(zip(values_of, combo, strict=True))
            if base.solver.threads is None and "solver.threads" not in values_of:
                overrides["solver.threads"] = 1
            parts = [f"{short.get(k, k)}={_slug(v)}" for k, v in values.items() if k in named]
            name = _unique(_fit("+".join(parts) or base.name), seen)
            try:
                scenario = Scenario(name, values, base.with_overrides(**overrides))
            except InputError as exc:
                raise InputError(f"{exc} (sweep scenario {name})") from None
            scenarios.append(scenario)
    return scenarios


def _check_plan(base: Config, vary: dict[str, list[Any]], split_by: str | None) -> None:
    if not vary and not split_by:
        raise InputError(
            f"{base.source}: nothing to sweep: give --groups, --vary or --split-by, "
            "or a sweep block (sweep: {vary: {groups.count: [6, 7, 8]}})"
        )
    for key, values in vary.items():
        problem = config_key_problem(key)
        if problem:
            raise InputError(f"{base.source}: config key '{key}' to vary: {problem}")
        if not values:
            raise InputError(f"{base.source}: config key '{key}' to vary has no values")
        if key in ("scenario", *COLUMNS):
            raise InputError(f"config key '{key}': vary the keys inside it, e.g. groups.count")
    if split_by is not None and ("inputs.select" in vary or split_by in ("scenario", *COLUMNS)):
        raise InputError(f"--split-by {split_by}: cannot be combined with varying inputs.select")


def _regions(config: Config, column: str) -> list[str]:
    """The values of a column of the practices table, within the config's own selection
    (``inputs.select``, applied as every run applies it)."""
    path = config.inputs.source
    raw = read_source(config)
    if column not in raw.columns:
        raise InputError(
            f"{path}: missing column '{column}' named by split_by "
            f"(columns are: {', '.join(map(str, raw.columns))})"
        )
    raw = select_rows(raw, config.inputs.select, path)
    text = raw[column].astype("string").str.strip()
    empty = [int(row) for row in raw.index[(text.isna() | (text == "")).to_numpy()]]
    if empty:
        shown = ", ".join(map(str, empty[:5])) + (
            f" (+{len(empty) - 5} more)" if len(empty) > 5 else ""
        )
        raise InputError(
            f"{path}: column '{column}' is empty in rows {shown}: every practice needs a "
            "value to split by"
        )
    return sorted(set(text.astype(str)))


def _short_names(keys: list[str]) -> dict[str, str]:
    """``groups.count`` -> ``count`` in scenario names, where the last part is unique."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: tail if last.count(tail) == 1 else key for key, tail in zip(keys, last, strict=True)
    }


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "value"


#: The longest scenario name (bytes): a folder name any file system takes, with room for
#: the sweep folder's path.
NAME_BYTES = 100


def _fit(name: str) -> str:
    """A scenario name cut to :data:`NAME_BYTES`, a digest of the whole keeping it apart.

    >>> _fit("icb_code=" + "Q" * 200)[-9:]
    '~86dc1545'
    """
    raw = name.encode()
    if len(raw) <= NAME_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return f"{raw[: NAME_BYTES - 12].decode(errors='ignore')}~{digest}"


def _unique(name: str, seen: set[str]) -> str:
    candidate, k = name, 1
    while candidate in seen:
        k += 1
        candidate = f"{name}-{k}"
    seen.add(candidate)
    return candidate
