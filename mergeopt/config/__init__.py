"""The run config: a YAML file validated by a pydantic schema.

Unknown keys are rejected and every error names the file and the key, so a commissioner
can fix a config without reading code. Paths in a config are relative to the config
file. The README's "Config reference" documents each key; this module is its source.

``sections`` holds each section of a config (a strict pydantic model with its own
checks); ``document`` the whole :class:`Config` with its ``sweep`` block, reading,
validation, overrides and paths. Every layer reads the validated config; it imports
nothing of mergeopt but the errors and the YAML reader.
"""

from mergeopt.config.document import (
    Config,
    Sweep,
    config_hash,
    config_key_problem,
    load_config,
    yaml_value,
)
from mergeopt.config.sections import (
    NAME_LENGTH,
    Code,
    Columns,
    CountRange,
    FederationPremises,
    Federations,
    FixedGroup,
    Float,
    Geography,
    Groups,
    Inputs,
    Int,
    NhsFiles,
    Objective,
    Premises,
    RoadProfile,
    Rules,
    Solver,
    Travel,
)

__all__ = [
    "NAME_LENGTH",
    "Code",
    "Columns",
    "Config",
    "CountRange",
    "FederationPremises",
    "Federations",
    "FixedGroup",
    "Float",
    "Geography",
    "Groups",
    "Inputs",
    "Int",
    "NhsFiles",
    "Objective",
    "Premises",
    "RoadProfile",
    "Rules",
    "Solver",
    "Sweep",
    "Travel",
    "config_hash",
    "config_key_problem",
    "load_config",
    "yaml_value",
]
