"""A whole config: the :class:`Config` of one YAML file with its ``sweep`` block, read and
validated (every problem listed at once, with "did you mean"), its paths resolved against
the file's folder and checked, overrides validated again; its hash; dotted keys checked."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, get_args

import yaml
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from mergeopt._errors import InputError, printable
from mergeopt._yaml import load_yaml
from mergeopt.config.sections import (
    NAME_LENGTH,
    NAME_PATTERN,
    Federations,
    Geography,
    Groups,
    Inputs,
    Int,
    Objective,
    Premises,
    Rules,
    Solver,
    Strict,
    Travel,
)


class Sweep(Strict):
    """A batch of scenarios of this config (``mergeopt sweep``; ignored by ``run``).

    ``vary`` maps dotted config keys to the values to try (several keys: every
    combination); ``split_by`` names a column of the practices table: one problem per
    value (e.g. every ICB). ``scheduler`` is a Dask scheduler address
    (``tcp://host:8786``); without one, ``workers`` local processes (default: one per CPU).
    """

    # a pydantic field (Strict is a BaseModel): the default is copied for each config
    vary: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}  # noqa: RUF012
    split_by: str | None = None
    scheduler: str | None = None
    workers: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _known_keys(self) -> Sweep:
        for key in self.vary:
            problem = config_key_problem(key)
            if problem:
                raise ValueError(f"vary key '{key}': {problem}")
        return self


class Config(Strict):
    """A whole run: one YAML file."""

    name: str
    description: str = ""
    inputs: Inputs
    groups: Groups = Groups()
    travel: Travel = Travel()
    premises: Premises = Premises()
    rules: Rules = Rules()
    federations: Federations | None = None
    geography: Geography = Geography()
    maps: bool = True
    objective: Objective = Objective()
    solver: Solver = Solver()
    sweep: Sweep | None = None
    _source: Path | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        # the run directory's name (runs/<name>): one plain folder name, never . or ..
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"'{printable(name)[:40]}' cannot name a run directory: use letters, digits "
                f"and _ . - (starting with a letter or digit), at most {NAME_LENGTH} characters"
            )
        return name

    @property
    def source(self) -> str:
        """The file this config came from (for error messages), or '<config>'."""
        return str(self._source) if self._source is not None else "<config>"

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, source: Path | str | None = None) -> Config:
        """A config from data already read and resolved (a run.json's copy, a sweep's
        task), knowing the file it came from (``source``; '<config>' or None: unknown).

        Paths are taken as they are; nothing is checked on disk.
        """
        config = cls.model_validate(data)
        if source is not None and str(source) != "<config>":
            config._source = Path(source)
        return config

    def files(self) -> dict[str, Path]:
        """Every file this config names, by its dotted key."""
        named = {
            **self.inputs.files(),
            **self.travel.files(),
            "geography.boundary": self.geography.boundary,
            "geography.lsoa": self.geography.lsoa,
        }
        return {key: Path(path) for key, path in named.items() if path is not None}

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with dotted keys changed, re-validated: ``groups.count=8``.

        >>> cfg = load_config("configs/hull_pcn.yaml")
        >>> cfg.with_overrides(**{"groups.count": 8}).groups.count
        8
        """
        data = self.model_dump(mode="python")
        for dotted, value in changes.items():
            *parents, leaf = dotted.split(".")
            node = data
            for key in parents:
                if not isinstance(node.get(key), dict):
                    raise InputError(f"config key '{dotted}': '{key}' is not a section")
                node = node[key]
            if leaf not in node:
                raise InputError(f"config key '{dotted}': no such key")
            node[leaf] = value
        changed = _validate(data, source=f"{self.source} (overrides)")
        changed._source = self._source
        _check_paths(changed)
        return changed


def config_key_problem(dotted: str) -> str | None:
    """Why a dotted key names no value of the config schema, or None if it does.

    >>> config_key_problem("groups.count") is None
    True
    >>> config_key_problem("groups.cont")
    "no such key 'cont' in 'groups' (did you mean 'count'?)"
    """
    model: type[BaseModel] | None = Config
    walked: list[str] = []
    for part in dotted.split("."):
        if model is None:
            return f"'{'.'.join(walked)}' is a value, not a section"
        if part not in model.model_fields:
            where = f" in '{'.'.join(walked)}'" if walked else ""
            return f"no such key '{part}'{where}{_did_you_mean('.'.join([*walked, part]))}"
        if model is Config and part == "sweep":
            return "a sweep cannot vary its own sweep block"
        model = _section(model.model_fields[part].annotation)
        walked.append(part)
    return None


def _section(annotation: Any) -> type[BaseModel] | None:
    """The config section a field holds (``count: int | CountRange`` holds one), if any."""
    for kind in (annotation, *get_args(annotation)):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def yaml_value(value: Any) -> str:
    """A value as it is written in a config file (``None`` as ``null``, ``True`` as
    ``true``), for advice a user copies into one.

    >>> yaml_value(None), yaml_value(44.0), yaml_value("none"), yaml_value([4, 6])
    ('null', '44.0', 'none', '[4, 6]')
    """
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def load_config(path: Path | str) -> Config:
    """Read and validate a YAML config; relative paths resolve against its folder.

    Raises
    ------
    InputError
        The file is missing, is not YAML, or breaks the schema (the message names the
        file and the key).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read config ({exc.strerror})") from None
    data = load_yaml(text, source=path)
    if data is None:
        raise InputError(f"{path}: the config file is empty")
    if not isinstance(data, dict):
        raise InputError(f"{path}: a config must be a mapping of keys, not {type(data).__name__}")
    config = _resolve_paths(_validate(data, source=str(path)), path.resolve().parent)
    config._source = path
    _check_paths(config)
    return config


def config_hash(config: Config) -> str:
    """A stable hash of a config's content (paths as resolved)."""
    text = config.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _validate(data: dict[str, Any], *, source: str) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(key, error) for key, error in _by_key(exc).items()]
        raise InputError(f"{source}: " + "; ".join(problems)) from None
    _check_federations(config, source)
    return config


def _check_federations(config: Config, source: str) -> None:
    """Rules of the federations block that depend on other sections."""
    federations = config.federations
    if federations is None:
        return
    problem = None
    if config.travel.model == "straight_line" and federations.max_minutes is not None:
        key, problem = "max_minutes", "straight_line travel is in km: use max_km"
    elif federations.mode == "today" and config.inputs.columns.current_group is None:
        key = "mode"
        problem = "mode 'today' groups today's networks: name them in inputs.columns.current_group"
    if problem is not None:
        raise InputError(f"{source}: key 'federations.{key}': {problem}")


def _problem(key: str, error: Any) -> str:
    """One schema problem in words, with "did you mean" for a misspelt key."""
    if error["type"] == "extra_forbidden":
        return f"key '{key}': unknown key{_did_you_mean(key)}"
    if error["type"] == "missing":
        return f"key '{key}': required key is missing"
    return f"key '{key}': " + str(error["msg"]).removeprefix("Value error, ")


def _did_you_mean(dotted: str) -> str:
    """ " (did you mean 'count'?)" for a key close to one its section has, else ""."""
    *section, last = dotted.split(".")
    model: type[BaseModel] | None = Config
    for part in section:
        field = model.model_fields.get(part) if model is not None else None
        model = _section(field.annotation) if field is not None else None
    if model is None:
        return ""
    close = difflib.get_close_matches(last, list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _by_key(exc: ValidationError) -> dict[str, Any]:
    """One error per config key; for a key of several types (``count: 8`` or
    ``count: {min, max}``) the branch tags are dropped and a rule's own message wins."""
    found: dict[str, Any] = {}
    for error in exc.errors():
        parts = [
            str(part)
            for part in error["loc"]
            if not (
                isinstance(part, str) and (part in _TYPE_TAGS or part[:1].isupper() or "[" in part)
            )
        ]
        key = ".".join(parts) or "(top level)"
        if key not in found or error["type"] == "value_error":
            found[key] = error
    return found


_TYPE_TAGS = {"int", "str", "float", "bool", "list", "dict", "none"}


def _check_paths(config: Config) -> None:
    """Every file a config names must exist (named by its key, as resolved)."""
    for key, path in config.files().items():
        if not path.is_file():
            raise InputError(f"{config.source}: key '{key}': no such file {path}")


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else (base / path).resolve()

    nhs = config.inputs.nhs
    if nhs is not None:
        nhs = nhs.model_copy(update={key: resolve(path) for key, path in nhs.files().items()})
    inputs = config.inputs.model_copy(
        update={
            "practices": resolve(config.inputs.practices),
            "premises": resolve(config.inputs.premises),
            "nhs": nhs,
        }
    )
    travel = config.travel.model_copy(
        update={
            "matrix": resolve(config.travel.matrix),
            "network": resolve(config.travel.network),
            "cache_dir": resolve(config.travel.cache_dir),
        }
    )
    geography = config.geography.model_copy(
        update={
            "boundary": resolve(config.geography.boundary),
            "lsoa": resolve(config.geography.lsoa),
        }
    )
    return config.model_copy(update={"inputs": inputs, "travel": travel, "geography": geography})
