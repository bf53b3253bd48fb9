"""NHS Digital's files as downloaded -> the practices table (prepare): what is read, which
file wins, which practices are left out and why, and hostile files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.inputs.nhs.assembly import (
    CANONICAL_COLUMNS,
    EXCLUDED_COLUMNS,
    Prepared,
    prepare,
    write_prepared,
)
from tests.hostile import EXCEL_STYLES, TALLY, check_error, corrupt, serialise

ROOT = Path(__file__).resolve().parents[3]


DATA = ROOT / "data"


NHS = DATA / "nhs"


LIST_2026 = NHS / "gp-reg-pat-prac-all_2026-02_hull_somerset.csv"


LIST_2021 = NHS / "gp-reg-pat-prac-all.csv"


MAP = NHS / "gp-reg-pat-prac-map.csv"


EPRACCUR = NHS / "epraccur.csv"


PARTNERS = NHS / "ePCN_PCN_Core_Partner_Details.csv"


DETAILS = NHS / "ePCN_PCNDetails.csv"


LOOKUP = NHS / "practice_postcodes_latlon_nspl_may2025.csv"


def _published(**selection: object) -> Prepared:
    """The Feb 2026 list sizes with the Oct 2025 map and the postcode lookup."""
    return prepare(list_sizes=LIST_2026, mapping=MAP, postcodes=LOOKUP, **selection)  # type: ignore[arg-type]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


@pytest.fixture(scope="module")
def hull() -> Prepared:
    return _published(sub_icb=["03F"])


@pytest.fixture(scope="module")
def england_2021() -> Prepared:
    return prepare(list_sizes=LIST_2021, mapping=MAP, postcodes=LOOKUP)


def test_hull_counts_and_total_match_the_publication(hull: Prepared) -> None:
    assert len(hull.practices) == 25
    assert hull.practices["list_size"].sum() == 313_989
    assert list(hull.practices.columns[: len(CANONICAL_COLUMNS)]) == list(CANONICAL_COLUMNS)
    assert set(hull.practices["list_size_date"]) == {"2026-02"}
    assert hull.practices["practice_code"].is_monotonic_increasing


def test_somerset_counts_and_total_match_the_publication() -> None:
    somerset = _published(sub_icb=["11X"])
    assert len(somerset.practices) == 59
    assert somerset.practices["list_size"].sum() == 606_605
    assert list(somerset.excluded["practice_code"]) == ["L85010", "L85048"]
    assert somerset.excluded["reason"].str.startswith("no list size in").all()


def test_exclusions_name_practices_without_a_list_size(hull: Prepared) -> None:
    assert list(hull.excluded.columns) == list(EXCLUDED_COLUMNS)
    assert hull.excluded["list_size"].isna().all()
    assert hull.excluded["list_size"].dtype == "Int64"
    assert hull.excluded.drop(columns="list_size").to_dict("records") == [
        {
            "practice_code": "B81052",
            "practice_name": "PRINCES MEDICAL CENTRE",
            "reason": f"no list size in {LIST_2026.name} (Feb 2026)",
        }
    ]
    assert "B81052 PRINCES MEDICAL CENTRE: no list size" in hull.summary()
    assert "1 practices left out" not in hull.summary()
    assert "1 practice left out (0 patients, and 1 with no list size):" in hull.summary()


@pytest.mark.parametrize(("area", "code"), [("hull", "03F"), ("somerset", "E38000150")])
def test_prepared_table_equals_the_shipped_table(area: str, code: str) -> None:
    shipped = pd.read_csv(DATA / area / "practices.csv", dtype={"practice_code": str})
    prepared = _published(sub_icb=[code]).practices
    pd.testing.assert_frame_equal(prepared[list(shipped.columns)], shipped)


def test_an_area_never_seen_before_works_from_the_national_files(
    england_2021: Prepared,
) -> None:
    west_yorkshire = prepare(list_sizes=LIST_2021, mapping=MAP, postcodes=LOOKUP, icb=["QWO"])
    table = west_yorkshire.practices
    assert len(table) > 250
    assert (table["icb_code"] == "QWO").all()
    for column in ("practice_name", "postcode", "pcn_code", "sub_icb_code"):
        assert (table[column] != "").all(), column
    national = england_2021.practices.set_index("practice_code")
    assert table["list_size"].sum() == national.loc[table["practice_code"], "list_size"].sum()
    # the practices at the one postcode NSPL lacks are reported, not dropped
    assert set(west_yorkshire.excluded["practice_code"]) >= {"Y00081", "Y02645"}
    assert (
        "postcode WF17 1DR not found"
        in west_yorkshire.excluded.set_index("practice_code")["reason"]["Y00081"]
    )


def test_older_list_sizes_report_practices_closed_since_the_mapping(
    england_2021: Prepared,
) -> None:
    kept = england_2021.practices
    excluded = england_2021.excluded.set_index("practice_code")["reason"]
    assert len(kept) + len(excluded) == len(
        set(pd.read_csv(LIST_2021)["CODE"]) | set(pd.read_csv(MAP)["PRACTICE_CODE"])
    )
    assert str(excluded["A81043"]).startswith("closed or merged: in gp-reg-pat-prac-all")
    assert set(kept["list_size_date"]) == {"2021-01"}
    published = pd.read_csv(LIST_2021).set_index("CODE")["NUMBER_OF_PATIENTS"]
    left_out = england_2021.excluded.set_index("practice_code")["list_size"]
    assert left_out.dropna().to_dict() == published.reindex(left_out.dropna().index).to_dict()
    total = int(published.reindex(left_out.index).sum())
    assert f"practices left out ({total:,} patients" in england_2021.summary()


def test_select_by_icb_code_or_ons_code(hull: Prepared) -> None:
    by_code = prepare(list_sizes=LIST_2021, mapping=MAP, postcodes=LOOKUP, icb=["qsl"])
    by_ons = prepare(list_sizes=LIST_2021, mapping=MAP, postcodes=LOOKUP, icb=["E54000038"])
    pd.testing.assert_frame_equal(by_code.practices, by_ons.practices)
    assert (by_code.practices["icb_code"] == "QSL").all()
    humber = _published(icb=["QOQ"])  # only Hull has Feb 2026 sizes in the file
    pd.testing.assert_frame_equal(humber.practices, hull.practices)
    assert humber.excluded["reason"].str.startswith("no list size").all()


def test_select_by_pcn_and_by_practice_list(hull: Prepared) -> None:
    has = hull.practices.groupby("pcn_code")["practice_code"].apply(set)
    assert set(_published(pcn=["U82095"]).practices["practice_code"]) == has["U82095"]
    chosen = _published(practices=["b81008", "L85001"]).practices
    assert list(chosen["practice_code"]) == ["B81008", "L85001"]


def test_selectors_add_up(hull: Prepared) -> None:
    both = _published(sub_icb=["03F"], practices=["L85001"])
    assert len(both.practices) == 26
    assert both.practices["list_size"].sum() == 313_989 + 17_675


@pytest.mark.parametrize(
    ("selection", "match"),
    [
        ({"icb": ["QXX"]}, r"all_2026.*map\.csv: ICB code QXX matches no practice"),
        ({"sub_icb": ["03G"]}, r"sub-ICB code 03G matches no practice \(did you mean"),
        ({"pcn": ["U99999"]}, r"PCN code U99999 matches no practice"),
        ({"practices": ["B81008", "Z99999"]}, r"practice code\(s\) Z99999 match no practice"),
        ({"icb": ["E54999999"]}, r"ICB code E54999999 matches no practice"),
    ],
)
def test_unknown_codes_are_refused(selection: dict[str, list[str]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        _published(**selection)


def test_selecting_by_icb_without_the_mapping_says_so() -> None:
    with pytest.raises(
        InputError,
        match=r"gp-reg-pat-prac-all\.csv: selecting by ICB needs "
        r"the mapping file .*CCG_CODE layout, 2021",
    ):
        prepare(list_sizes=LIST_2021, postcodes=LOOKUP, icb=["QOQ"])
    with pytest.raises(InputError, match=r"ONS code and no file given has ONS ICB codes"):
        prepare(list_sizes=LIST_2021, epraccur=EPRACCUR, postcodes=LOOKUP, icb=["E54000051"])
    with pytest.raises(InputError, match=r"selecting by PCN needs the mapping file"):
        prepare(list_sizes=LIST_2026, postcodes=LOOKUP, pcn=["U82095"])


def test_list_file_alone_selects_by_ccg_code() -> None:
    hull_2021 = prepare(list_sizes=LIST_2021, postcodes=LOOKUP, sub_icb=["E38000085"])
    table = hull_2021.practices
    assert (table["sub_icb_code"] == "03F").all()
    assert (table["practice_name"] == "").all() and (table["pcn_code"] == "").all()
    assert len(table) + len(hull_2021.excluded) == 32


def test_epraccur_closures_apply_only_when_it_is_newer() -> None:
    old = prepare(
        list_sizes=LIST_2021,
        epraccur=EPRACCUR,
        postcodes=LOOKUP,
        practices=["A82048", "F86679", "A81001"],
    )
    reasons = old.excluded.set_index("practice_code")["reason"]
    assert reasons["A82048"] == "closed on 2022-03-31 according to epraccur.csv (Dec 2022)"
    assert reasons["F86679"].startswith("dormant according to epraccur.csv")
    assert list(old.practices["practice_code"]) == ["A81001"]
    assert old.practices.at[0, "practice_name"] == "THE DENSHAM SURGERY"
    assert old.practices.at[0, "icb_code"] == "QHM"  # epraccur's column 3
    # the Oct 2025 map still lists F86679: the Dec 2022 dormancy is stale
    newer = prepare(
        list_sizes=LIST_2021,
        mapping=MAP,
        epraccur=EPRACCUR,
        postcodes=LOOKUP,
        practices=["F86679"],
    )
    assert list(newer.practices["practice_code"]) == ["F86679"]


def test_epcn_gives_networks_when_no_mapping(hull: Prepared) -> None:
    epcn = prepare(
        list_sizes=LIST_2026,
        epcn_partners=PARTNERS,
        epcn_details=DETAILS,
        postcodes=LOOKUP,
        sub_icb=["03F"],
    )
    assert len(epcn.practices) == 25  # without the mapping B81052 is not known at all
    assert epcn.excluded.empty
    networks = epcn.practices.set_index("practice_code")[["pcn_code", "pcn_name"]]
    assert tuple(networks.loc["B81097"]) == ("", "")  # no current ePCN link in Jan 2023
    others = networks.drop(index="B81097")
    assert others["pcn_code"].str.match(r"^U\d{5}$").all() and (others["pcn_name"] != "").all()
    with pytest.raises(
        InputError,
        match=r"ePCN_PCNDetails\.csv: the ePCN details sheet .* "
        r"give the core partner sheet",
    ):
        prepare(list_sizes=LIST_2026, epcn_details=DETAILS, postcodes=LOOKUP)
    both = prepare(
        list_sizes=LIST_2026,
        mapping=MAP,
        epcn_partners=PARTNERS,
        postcodes=LOOKUP,
        sub_icb=["03F"],
    )
    pd.testing.assert_frame_equal(both.practices, hull.practices)  # the newer map wins


def test_postcodes_match_with_spaces_removed_and_grid_computed(
    tmp_path: Path, hull: Prepared
) -> None:
    # NSPL style: 7-character pcd (no space, or two), lower case, lat/long only
    lookup = pd.read_csv(LOOKUP)
    rows = lookup[lookup["postcode"].isin(hull.practices["postcode"])]
    raw = rows["postcode"].str.replace(" ", "")
    squeezed = raw.str[:-3].str.ljust(4) + raw.str[-3:]
    nspl = pd.DataFrame({"pcd": squeezed.str.lower(), "lat": rows["lat"], "long": rows["long"]})
    nspl.loc[nspl.index[:2], "pcd"] = raw.iloc[:2].to_numpy()
    path = tmp_path / "nspl.csv"
    nspl.to_csv(path, index=False)
    prepared = prepare(list_sizes=LIST_2026, mapping=MAP, postcodes=path, sub_icb=["03F"])
    pd.testing.assert_frame_equal(prepared.practices, hull.practices)


def test_lookup_with_grid_only_and_missing_coordinates(tmp_path: Path, hull: Prepared) -> None:
    lookup = pd.read_csv(LOOKUP)
    rows = lookup[lookup["postcode"].isin(hull.practices["postcode"])].copy()
    grid = rows.rename(
        columns={"postcode": "pcds", "easting_osgb": "oseast1m", "northing_osgb": "osnrth1m"}
    )[["pcds", "oseast1m", "osnrth1m"]]
    grid.to_csv(tmp_path / "grid.csv", index=False)
    from_grid = prepare(
        list_sizes=LIST_2026, mapping=MAP, postcodes=tmp_path / "grid.csv", sub_icb=["03F"]
    ).practices
    assert (from_grid["lat"] - hull.practices["lat"]).abs().max() < 2e-5
    # NSPL writes 99.999999 for a postcode with no grid reference
    rows.loc[rows["postcode"] == "HU9 2LJ", ["lat", "long"]] = [99.999999, 0.0]
    rows.drop(columns=["easting_osgb", "northing_osgb"]).to_csv(tmp_path / "l.csv", index=False)
    prepared = prepare(
        list_sizes=LIST_2026, mapping=MAP, postcodes=tmp_path / "l.csv", sub_icb=["03F"]
    )
    reasons = prepared.excluded.set_index("practice_code")["reason"]
    assert reasons["B81008"] == "postcode HU9 2LJ has no coordinates in l.csv"


def test_premises_columns_are_appended(tmp_path: Path) -> None:
    premises = DATA / "hull" / "premises_illustrative.csv"
    prepared = prepare(
        list_sizes=LIST_2026, mapping=MAP, postcodes=LOOKUP, premises=premises, sub_icb=["03F"]
    )
    extra = list(prepared.practices.columns[len(CANONICAL_COLUMNS) + 1 :])
    assert extra == ["floor_area_m2", "hub_eligibility", "source"]
    assert prepared.practices["floor_area_m2"].dtype.kind == "f"
    clash = _write(tmp_path / "premises.csv", ["practice_code,list_size", "B81008,3"])
    with pytest.raises(InputError, match=r"premises\.csv: column\(s\) list_size would replace"):
        prepare(list_sizes=LIST_2026, postcodes=LOOKUP, premises=clash, sub_icb=["03F"])


@pytest.mark.parametrize(
    ("files", "match"),
    [
        (
            {"list_sizes": MAP},
            r"gp-reg-pat-prac-map\.csv: this looks like the practice mapping "
            r"file .*, expected the list-size file",
        ),
        (
            {"list_sizes": EPRACCUR},
            r"epraccur\.csv: this looks like the ODS practice file .*"
            r"expected the list-size file",
        ),
        (
            {"list_sizes": LIST_2026, "mapping": LIST_2021},
            r"gp-reg-pat-prac-all\.csv: this "
            r"looks like the list-size file .*, expected the practice mapping file",
        ),
        ({"list_sizes": LIST_2026, "epraccur": MAP}, r"expected the ODS practice file"),
        (
            {"list_sizes": LIST_2026, "epcn_partners": DETAILS},
            r"ePCN_PCNDetails\.csv: this "
            r"looks like the ePCN details sheet .*, expected the ePCN core partner sheet",
        ),
        (
            {"list_sizes": LIST_2026, "postcodes": MAP},
            r"map\.csv: this looks like the "
            r"practice mapping file .*, expected a postcode lookup",
        ),
    ],
)
def test_a_file_from_the_wrong_publication_is_named(files: dict[str, Path], match: str) -> None:
    arguments: dict[str, Path] = {"postcodes": LOOKUP, **files}
    with pytest.raises(InputError, match=match):
        prepare(**arguments)  # type: ignore[arg-type]


def test_required_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="prepare needs list_sizes"):
        prepare(mapping=MAP, postcodes=LOOKUP)
    with pytest.raises(InputError, match="prepare needs postcodes"):
        prepare(list_sizes=LIST_2026)
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        prepare(list_sizes=tmp_path / "nowhere.csv", postcodes=LOOKUP)
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        prepare(list_sizes=_write(tmp_path / "empty.csv", []), postcodes=LOOKUP)


def test_age_sex_breakdown_is_refused(tmp_path: Path) -> None:
    lines = _lines(LIST_2026)
    lines[2] = lines[2].replace(",ALL,ALL,", ",MALE,0,")
    path = _write(tmp_path / "gp-reg-pat-prac-sing-age-male.csv", lines)
    with pytest.raises(
        InputError,
        match=r"sing-age-male\.csv: columns SEX, AGE: row 3 \(0\) are"
        r" not totals .*this looks like a breakdown",
    ):
        prepare(list_sizes=path, postcodes=LOOKUP)


def test_latin1_and_bom_files_are_read(tmp_path: Path, hull: Prepared) -> None:
    sizes = tmp_path / "sizes.csv"
    sizes.write_bytes(b"\xef\xbb\xbf" + LIST_2026.read_bytes())
    mapping = [line for line in _lines(MAP) if ",03F," in line or line.startswith("PUB")]
    mapping = [line.replace("HULL FAMILY PRACTICE", "HULL FAMILY PRACTICÉ") for line in mapping]
    latin = _write(tmp_path / "map.csv", mapping, encoding="latin-1")
    prepared = prepare(list_sizes=sizes, mapping=latin, postcodes=LOOKUP, sub_icb=["03F"])
    assert prepared.practices.at[0, "practice_name"] == "HULL FAMILY PRACTICÉ"
    assert prepared.practices["list_size"].sum() == 313_989
    epraccur = tmp_path / "epraccur.csv"
    epraccur.write_bytes(b"\xef\xbb\xbf" + b"\n".join(EPRACCUR.read_bytes().splitlines()[:100]))
    with_bom = prepare(
        list_sizes=LIST_2021, epraccur=epraccur, postcodes=LOOKUP, practices=["A81001"]
    )
    assert with_bom.practices.at[0, "practice_name"] == "THE DENSHAM SURGERY"


def test_a_practice_in_the_list_but_not_the_mapping_is_refused(tmp_path: Path) -> None:
    lines = _lines(LIST_2026)
    lines.append(lines[1].replace("B81008", "B81999"))  # file line 86
    path = _write(tmp_path / "list.csv", lines)
    with pytest.raises(
        InputError,
        match=r"list\.csv \(Feb 2026\): column CODE: practices not "
        r"in the mapping gp-reg-pat-prac-map\.csv \(Oct 2025\) at row 86 "
        r"\(B81999\); use the mapping of the same month",
    ):
        prepare(list_sizes=path, mapping=MAP, postcodes=LOOKUP, sub_icb=["03F"])
    # the same month: the files do not belong together
    same = [line.replace("01Oct2025", "01Feb2026") for line in _lines(MAP)]
    same_map = _write(tmp_path / "map.csv", same)
    with pytest.raises(InputError, match=r"at row 86 \(B81999\); the two files do not belong"):
        prepare(list_sizes=path, mapping=same_map, postcodes=LOOKUP)
    # outside the selection it does not matter
    assert (
        len(prepare(list_sizes=path, mapping=MAP, postcodes=LOOKUP, sub_icb=["11X"]).practices)
        == 59
    )


def test_duplicated_rows_are_refused(tmp_path: Path) -> None:
    lines = _lines(LIST_2026)
    path = _write(tmp_path / "list.csv", [*lines, lines[1]])
    with pytest.raises(
        InputError,
        match=r"list\.csv: column CODE: practice code appears more "
        r"than once at rows 2 \(B81008\), 86 \(B81008\)",
    ):
        prepare(list_sizes=path, postcodes=LOOKUP)
    mapping = _lines(MAP)[:40]
    path = _write(tmp_path / "map.csv", [*mapping, mapping[5]])
    with pytest.raises(InputError, match=r"map\.csv: column PRACTICE_CODE: .* at rows 6 "):
        prepare(list_sizes=LIST_2026, mapping=path, postcodes=LOOKUP)
    lookup = _lines(LOOKUP)
    clash = lookup[1].replace("AL10 0BS,51.76603", "AL100BS,52.76603")
    path = _write(tmp_path / "lookup.csv", [*lookup, lookup[1], clash])
    with pytest.raises(
        InputError,
        match=r"lookup\.csv: column POSTCODE: the same postcode "
        r"\(spaces removed\) has different coordinates at rows 2 \(AL10 0BS\)",
    ):
        prepare(list_sizes=LIST_2021, postcodes=path, practices=["E82002"])


def test_mixed_publications_and_bad_sizes_are_refused(tmp_path: Path) -> None:
    lines = _lines(LIST_2026)
    lines[5] = lines[5].replace("2026-02-01", "2026-01-01")
    with pytest.raises(
        InputError,
        match=r"mixed\.csv: column EXTRACT_DATE: the file mixes "
        r"publications .* at row 6 \(2026-01-01\)",
    ):
        prepare(list_sizes=_write(tmp_path / "mixed.csv", lines), postcodes=LOOKUP)
    lines = _lines(LIST_2026)
    lines[3] = lines[3].rsplit(",", 1)[0] + ",12.5"
    lines[4] = lines[4].rsplit(",", 1)[0] + ","
    with pytest.raises(
        InputError,
        match=r"sizes\.csv: column NUMBER_OF_PATIENTS: not a whole "
        r"number of patients at rows 4 \(12\.5\), 5$",
    ):
        prepare(list_sizes=_write(tmp_path / "sizes.csv", lines), postcodes=LOOKUP)


def test_nothing_usable_is_an_error() -> None:
    with pytest.raises(
        InputError,
        match=r"none of the 1 selected practices can be used "
        r"\(B81052: no list size",
    ):
        _published(practices=["B81052"])


def test_write_prepared_writes_table_and_report_beside_it(tmp_path: Path, hull: Prepared) -> None:
    table, report = write_prepared(hull, tmp_path / "out" / "practices.csv")
    assert report == tmp_path / "out" / "practices_excluded.csv"
    back = pd.read_csv(table, dtype={"practice_code": str}, keep_default_na=False)
    pd.testing.assert_frame_equal(back, hull.practices, check_dtype=False)
    assert pd.read_csv(report)["practice_code"].tolist() == ["B81052"]
    assert sorted(p.name for p in table.parent.iterdir()) == [
        "practices.csv",
        "practices_excluded.csv",
    ]
    parquet, _ = write_prepared(hull, tmp_path / "practices.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), hull.practices)
    with pytest.raises(InputError, match=r"cannot write a practices table as '\.xlsx'"):
        write_prepared(hull, tmp_path / "practices.xlsx")


def test_gpkg_output(tmp_path: Path, hull: Prepared) -> None:

    path, _ = write_prepared(hull, tmp_path / "practices.gpkg")
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 27700 and len(back) == 25
    assert back.geometry.x.tolist() == hull.practices["easting"].astype(float).tolist()


def test_the_2021_mapping_layout_is_read(tmp_path: Path, hull: Prepared) -> None:
    lines = _lines(MAP)
    old = {
        "ONS_SUB_ICB_LOCATION_CODE": "ONS_CCG_CODE",
        "SUB_ICB_LOCATION_CODE": "CCG_CODE",
        "SUB_ICB_LOCATION_NAME": "CCG_NAME",
        "ONS_ICB_CODE": "ONS_STP_CODE",
        "ICB_CODE": "STP_CODE",
        "ICB_NAME": "STP_NAME",
    }
    lines[0] = ",".join(old.get(name, name) for name in lines[0].split(","))
    mapping = _write(tmp_path / "map.csv", lines)
    prepared = prepare(list_sizes=LIST_2026, mapping=mapping, postcodes=LOOKUP, icb=["E54000051"])
    pd.testing.assert_frame_equal(prepared.practices, hull.practices)


def test_a_config_can_name_the_nhs_files_directly(tmp_path: Path) -> None:
    """configs/hull_pcn_from_nhs_files.yaml builds Hull's table from the downloads and
    gives the same plan as the prepared table; the practice it cannot use is named."""
    from typer.testing import CliRunner

    from mergeopt.cli import app

    runner = CliRunner()
    direct, prepared = tmp_path / "direct", tmp_path / "prepared"
    first = runner.invoke(
        app, ["run", str(ROOT / "configs/hull_pcn_from_nhs_files.yaml"), "--out", str(direct)]
    )
    assert first.exit_code == 0, first.stderr
    assert "1 practice(s) left out" in first.stderr and "B81052" in first.stderr
    second = runner.invoke(
        app, ["run", str(ROOT / "configs/hull_pcn.yaml"), "--out", str(prepared)]
    )
    assert second.exit_code == 0, second.stderr
    columns = ["practice_code", "list_size", "group", "hub", "travel"]
    a = pd.read_csv(direct / "assignments.csv")[columns]
    b = pd.read_csv(prepared / "assignments.csv")[columns]
    pd.testing.assert_frame_equal(a, b)
    record = json.loads((direct / "run.json").read_text())
    assert any(path.endswith("gp-reg-pat-prac-map.csv") for path in record["inputs"])


NHS = ROOT / "data" / "nhs"


NHS_CODES = ("B81008", "B81011", "B81018")


NHS_POSTCODES = ("HU9 2LJ", "HU3 5QE", "HU6 9BS")


def _real_table(name: str, *, header: bool, key: int) -> tuple[list[str] | None, list[list[str]]]:
    """The header and the rows of a shipped NHS file for the three Hull practices."""
    with (NHS / name).open(encoding="utf-8", newline="") as file:
        lines = list(csv.reader(file))
    wanted = {*NHS_CODES, *NHS_POSTCODES}
    body = [line for line in lines[1 if header else 0 :] if line[key] in wanted]
    return (lines[0] if header else None), body


NHS_FILES = {
    "list sizes 2026": (
        "sizes.csv",
        _real_table("gp-reg-pat-prac-all_2026-02_hull_somerset.csv", header=True, key=5),
    ),
    "list sizes 2021": ("sizes.csv", _real_table("gp-reg-pat-prac-all.csv", header=True, key=5)),
    "mapping": ("map.csv", _real_table("gp-reg-pat-prac-map.csv", header=True, key=2)),
    "epraccur": ("epraccur.csv", _real_table("epraccur.csv", header=False, key=0)),
    "postcodes": (
        "lookup.csv",
        _real_table("practice_postcodes_latlon_nspl_may2025.csv", header=True, key=0),
    ),
}


CLEAN_STYLE = {"sep": ",", "crlf": False, "quote_all": False, "encoding": "utf-8"}


@st.composite
def corrupted_nhs_files(draw: st.DrawFn) -> tuple[str, str, dict[str, bytes], dict]:
    sizes = draw(st.sampled_from(["list sizes 2026", "list sizes 2021"]))
    target = draw(st.sampled_from([sizes, "mapping", "epraccur", "postcodes"]))
    optional = [n for n in ("mapping", "epraccur") if n == target or draw(st.booleans())]
    roles = [sizes, *optional, "postcodes"]
    files, tables = {}, {}
    for role in roles:
        _name, (header, rows) = NHS_FILES[role]
        header = None if header is None else list(header)
        rows = [list(row) for row in rows]
        style = CLEAN_STYLE
        if role == target:
            names = header or ["A"]
            corrupt(draw, header, rows, [*names, "CODE", "POSTCODE", "LAT"])
            style = draw(EXCEL_STYLES)
        files[role] = serialise(header, rows, style)
        tables[role] = (header, rows)
    return target, sizes, files, tables


def _cell(header: list[str] | None, row: list[str], name: str | int) -> str:
    """A row's cell under ``name``; empty where the row was cut short before it."""
    if header is None:
        at = int(name)
    else:
        at = [" ".join(h.split()).upper() for h in header].index(str(name))
    return row[at].strip() if at < len(row) else ""


def _check_prepared(prepared, target: str, sizes: str, tables: dict) -> None:
    table = prepared.practices
    assert list(table.columns) == [*CANONICAL_COLUMNS, "list_size_date"]
    codes = table["practice_code"]
    assert codes.is_unique and codes.str.fullmatch(r"[A-Z][A-Z0-9]{5}").all()
    assert table["list_size"].dtype == np.int64 and (table["list_size"] > 0).all()
    numbers = table[["lat", "long", "easting", "northing"]].to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    assert table["lat"].between(49, 61).all() and table["long"].between(-9, 2).all()
    assert table["easting"].between(0, 700_000).all()
    assert table["northing"].between(0, 1_300_000).all()
    assert set(codes).isdisjoint(prepared.excluded["practice_code"])
    assert (prepared.excluded["reason"] != "").all()
    # no column shifted or misread: each list size is the one written in the file
    header, rows = tables[sizes]
    for code, size in zip(codes, table["list_size"], strict=True):
        mine = [row for row in rows if row and _cell(header, row, "CODE").upper() == code]
        assert len(mine) == 1
        assert float(_cell(header, mine[0], "NUMBER_OF_PATIENTS")) == size
    if target != "postcodes":  # the lookup is untouched: the coordinates are its own
        lookup = {row[0]: (int(row[3]), int(row[4])) for row in NHS_FILES["postcodes"][1][1]}
        for postcode, east, north in table[["postcode", "easting", "northing"]].itertuples(
            index=False
        ):
            assert lookup[postcode] == (east, north)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corrupted_nhs_files())
def test_corrupted_nhs_files_fail_clearly_or_read_correctly(tmp_path, case):
    target, sizes, files, tables = case
    paths = {}
    for role, data in files.items():
        paths[role] = tmp_path / NHS_FILES[role][0]
        paths[role].write_bytes(data)
    what = f"bad NHS files ({target.removesuffix(' 2026').removesuffix(' 2021')})"
    TALLY[f"{what} tried"] += 1
    try:
        prepared = prepare(
            list_sizes=paths[sizes],
            mapping=paths.get("mapping"),
            epraccur=paths.get("epraccur"),
            postcodes=paths["postcodes"],
        )
    except InputError as exc:
        check_error(str(exc), NHS_FILES[target][0], what)
    else:
        _check_prepared(prepared, target, sizes, tables)
        TALLY[f"{what}: read, every invariant held"] += 1


def _nhs_case(tmp_path: Path, role: str, header, rows, style=CLEAN_STYLE) -> dict[str, Path]:
    """The three Hull practices' files, one of them replaced."""
    paths = {}
    for name in ("list sizes 2026", "mapping", "postcodes"):
        file_name, (clean_header, clean_rows) = NHS_FILES[name]
        paths[name] = tmp_path / file_name
        if name == role:
            paths[name].write_bytes(serialise(header, rows, style))
        else:
            paths[name].write_bytes(serialise(clean_header, clean_rows, CLEAN_STYLE))
    return paths


def _edited(role: str, edit) -> tuple[list[str], list[list[str]]]:
    _name, (header, rows) = NHS_FILES[role]
    header, rows = list(header), [list(row) for row in rows]
    edit(header, rows)
    return header, rows


@pytest.mark.parametrize(
    ("role", "edit", "match"),
    [
        # a first row longer than the header shifted every value one column left
        ("list sizes 2026", lambda h, r: r[0].append("x"), r"sizes\.csv: .*line 2 has more"),
        ("mapping", lambda h, r: r[1].append("x"), r"map\.csv: .*Expected 17 fields in line 3"),
        ("list sizes 2026", lambda h, r: h.__setitem__(0, "code"), r"column CODE appears 2"),
        ("postcodes", lambda h, r: h.__setitem__(5, "LAT "), r"lookup\.csv: column LAT appears"),
        ("list sizes 2026", lambda h, r: r[0].__setitem__(9, "1e308"), r"more patients than"),
        ("list sizes 2026", lambda h, r: r[0].__setitem__(9, "9" * 40), r"row 2 \(9999"),
        ("mapping", lambda h, r: r[0].__setitem__(2, "=1+1"), r"PRACTICE_CODE: not a practice"),
        ("list sizes 2026", lambda h, r: r[2].__setitem__(5, "B8\n1"), r"at row 4 \(B8\\n1\)"),
        ("postcodes", lambda h, r: r[0].__setitem__(3, "inf"), r"EASTING_OSGB: not a number"),
        ("postcodes", lambda h, r: r[0].__setitem__(1, "0"), r"LAT: lat outside the UK"),
        ("postcodes", lambda h, r: r[1].__setitem__(4, "-5"), r"NORTHING_OSGB: northing outs"),
        ("list sizes 2026", lambda h, r: [x.pop(5) for x in [h, *r]], r"no column CODE$"),
        ("postcodes", lambda h, r: [x.pop(0) for x in [h, *r]], r"no column PCDS or PCD$"),
    ],
    ids=[
        "long-first-row",
        "long-later-row",
        "dup-header",
        "dup-header-spaced",
        "huge-size",
        "40-digit-size",
        "excel-formula-code",
        "newline-in-code",
        "inf-easting",
        "zero-lat",
        "negative-northing",
        "no-code-column",
        "no-postcode-column",
    ],
)
def test_nhs_regressions(tmp_path, role, edit, match):
    paths = _nhs_case(tmp_path, role, *_edited(role, edit))
    what = f"bad NHS files ({role.removesuffix(' 2026')})"
    TALLY[f"{what} tried"] += 1
    with pytest.raises(InputError, match=match) as info:
        prepare(
            list_sizes=paths["list sizes 2026"],
            mapping=paths["mapping"],
            postcodes=paths["postcodes"],
        )
    check_error(str(info.value), NHS_FILES[role][0], what)


@pytest.mark.parametrize(
    "style",
    [
        {"sep": ";", "crlf": True, "quote_all": True, "encoding": "utf-8-sig"},
        {"sep": ",", "crlf": True, "quote_all": False, "encoding": "utf-16"},
        {"sep": ";", "crlf": False, "quote_all": False, "encoding": "cp1252"},
    ],
    ids=["excel-semicolons", "utf16", "cp1252-semicolons"],
)
@pytest.mark.parametrize("role", ["list sizes 2026", "mapping", "postcodes"])
def test_nhs_excel_exports_are_read(tmp_path, role, style):
    _name, (header, rows) = NHS_FILES[role]
    paths = _nhs_case(tmp_path, role, header, rows, style)
    what = f"bad NHS files ({role.removesuffix(' 2026')})"
    TALLY[f"{what} tried"] += 1
    prepared = prepare(
        list_sizes=paths["list sizes 2026"], mapping=paths["mapping"], postcodes=paths["postcodes"]
    )
    tables = {"list sizes 2026": NHS_FILES["list sizes 2026"][1]}
    _check_prepared(prepared, "", "list sizes 2026", tables)
    assert list(prepared.practices["practice_code"]) == list(NHS_CODES)
    assert prepared.practices["practice_name"].str.len().gt(0).all()
    TALLY[f"{what}: read, every invariant held"] += 1
