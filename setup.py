"""The wheel carries the national tables ``mergeopt init`` reads.

They live in the repository's ``data/`` (with their provenance, beside the tables the
benchmarks and the England config read), outside the package; this build step copies
them into ``mergeopt/runs/national/`` in the wheel, so an installed mergeopt starts a
new area as a clone does (:mod:`mergeopt.runs.areas` looks in ``data/`` first). Every
other setting is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Under ``data/``: the practices table, the sub-ICB code and name lookup, the CCG layer.
NATIONAL = (
    "england/practices.csv",
    "nhs/gp-reg-pat-prac-map.csv",
    "nhs/boundaries/boundaries_ccg21.geojson",
)


class BuildWithNationalTables(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads data/ itself
            return
        target = Path(self.build_lib) / "mergeopt" / "runs" / "national"
        self.mkpath(str(target))
        for relative in NATIONAL:
            self.copy_file(str(ROOT / "data" / relative), str(target / Path(relative).name))


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildWithNationalTables})
