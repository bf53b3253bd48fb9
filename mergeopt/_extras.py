"""Optional dependencies: the extras that install them, and one clear line when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from mergeopt._errors import InputError

#: The extra that installs each optional module (``pip install "mergeopt[EXTRA]"``).
EXTRAS = {"pyarrow": "parquet", "distributed": "dask", "osmium": "roads"}


def require(module: str, *, purpose: str) -> ModuleType:
    """Import an optional module, or raise :class:`InputError` saying how to install it.

    >>> require("json", purpose="reading JSON").__name__
    'json'
    >>> require("pyarrow_x", purpose="it")
    Traceback (most recent call last):
    ...
    mergeopt._errors.InputError: it needs pyarrow_x, which is not installed: pip install pyarrow_x
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module)
        how = f"pip install 'mergeopt[{extra}]'" if extra else f"pip install {module}"
        raise InputError(f"{purpose} needs {module}, which is not installed: {how}") from None
