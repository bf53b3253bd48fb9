"""``python -m mergeopt``: the same as the ``mergeopt`` command."""

from mergeopt.cli import app

app(prog_name="mergeopt")
