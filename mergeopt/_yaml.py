"""Reading a YAML config strictly: a key given twice is an error, not the last value.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word, so a config that
sets ``max_minutes`` twice silently runs with whichever came second. :func:`load_yaml`
composes the document first, refuses a mapping that repeats a key (naming the key and
both lines), then builds the values with PyYAML's safe constructors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mergeopt._errors import InputError, printable

_MERGE = "tag:yaml.org,2002:merge"


def load_yaml(text: str, *, source: Path | str) -> Any:
    """The value of a YAML document (None if it holds nothing).

    Raises
    ------
    InputError
        The text is not YAML, or a mapping in it gives a key twice (the message names
        the file, the key and both lines).

    Examples
    --------
    >>> load_yaml("a: 1\\nb: {c: 2}\\n", source="x.yaml")
    {'a': 1, 'b': {'c': 2}}
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_repeats(node, source=source, within="")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise InputError(f"{source}:{line} is not valid YAML") from None
    finally:
        loader.dispose()


def _refuse_repeats(node: yaml.Node, *, source: Path | str, within: str) -> None:
    """Raise if any mapping under ``node`` gives a key twice."""
    if isinstance(node, yaml.SequenceNode):
        for k, item in enumerate(node.value):
            _refuse_repeats(item, source=source, within=f"{within}[{k}]")
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[tuple[str, str], int] = {}
    for key, value in node.value:
        if key.tag == _MERGE or not isinstance(key, yaml.ScalarNode):
            continue  # a merge (<<) or a key no config has: the schema says so
        name = str(key.value)
        dotted = f"{within}.{name}" if within else name
        line = key.start_mark.line + 1
        first = seen.get((key.tag, name))
        if first is not None:
            lines = f"lines {first} and {line}" if first != line else f"line {line}"
            raise InputError(
                f"{source}: key '{printable(dotted)}' is given twice ({lines}); keep one"
            )
        seen[(key.tag, name)] = line
        _refuse_repeats(value, source=source, within=dotted)
