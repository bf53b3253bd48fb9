"""Build the national practices table in data/england/ with mergeopt.inputs.nhs.assembly.prepare.

Run from the repository root: ``python data/england/build.py``. It reads only files in
data/nhs and writes data/england/practices.csv and practices_excluded.csv (see README.md
there for what the table is and is not).

One publication per row, named in ``list_size_date``: the Feb 2026 list sizes where the
Feb 2026 file has the area (sub-ICBs 03F Hull and 11X Somerset, the only rows of it kept
in data/nhs), the Jan 2021 list sizes everywhere else. Practices, names, postcodes,
networks, sub-ICBs and ICBs are those of the Oct 2025 mapping; epraccur (Dec 2022) only
names the practices of 2021 that have closed since and dates their closure.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mergeopt.inputs.nhs.assembly import Prepared, prepare, write_prepared

HERE = Path(__file__).resolve().parent
NHS = HERE.parent / "nhs"
RECENT_AREAS = ["03F", "11X"]


def _prepare(list_sizes: Path, sub_icb: list[str]) -> Prepared:
    return prepare(
        list_sizes=list_sizes,
        mapping=NHS / "gp-reg-pat-prac-map.csv",
        epraccur=NHS / "epraccur.csv",
        postcodes=NHS / "practice_postcodes_latlon_nspl_may2025.csv",
        sub_icb=sub_icb,
    )


def build() -> Prepared:
    """Prepare the two publications and keep, per practice, the newer one's row."""
    recent = _prepare(NHS / "gp-reg-pat-prac-all_2026-02_hull_somerset.csv", RECENT_AREAS)
    older = _prepare(NHS / "gp-reg-pat-prac-all.csv", [])
    covered = set(recent.practices["practice_code"]) | set(recent.excluded["practice_code"])
    practices = pd.concat(
        [recent.practices, older.practices[~older.practices["practice_code"].isin(covered)]]
    )
    excluded = pd.concat(
        [recent.excluded, older.excluded[~older.excluded["practice_code"].isin(covered)]]
    )
    return Prepared(
        practices=practices.sort_values("practice_code", ignore_index=True),
        excluded=excluded.sort_values("practice_code", ignore_index=True),
    )


def main() -> None:
    prepared = build()
    table, report = write_prepared(prepared, HERE / "practices.csv")
    kept, left_out = prepared.practices, prepared.excluded
    print(f"wrote {table} and {report}")
    print(f"{len(kept):,} practices, {int(kept['list_size'].sum()):,} patients")
    print(kept.groupby("list_size_date")["list_size"].agg(["count", "sum"]).to_string())
    print(f"{len(left_out):,} left out:")
    print(left_out["reason"].str.split(";").str[0].value_counts().to_string())


if __name__ == "__main__":
    main()
