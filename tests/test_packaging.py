"""The package as a user installs it: the shipped examples, the version, the extras, and
the built wheel running an example in a fresh virtual environment outside the repository."""

from __future__ import annotations

import filecmp
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from mergeopt import __version__, examples
from mergeopt._errors import InputError
from mergeopt.cli import app
from mergeopt.config import load_config
from mergeopt.runs import areas

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _build_examples():
    spec = importlib.util.spec_from_file_location(
        "build_examples", ROOT / "tools" / "build_examples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__" not in p.name
    )


def test_shipped_examples_are_the_configs_and_data_of_the_repository(tmp_path):
    _build_examples().build(tmp_path)
    package = ROOT / "mergeopt" / "examples"
    assert _tree(tmp_path) == _tree(package), "run python tools/build_examples.py"
    for relative in _tree(tmp_path):
        assert filecmp.cmp(tmp_path / relative, package / relative, shallow=False), relative


def test_the_shipped_local_authorities_are_the_derived_ones(tmp_path):
    """The place names of an offline map (inside the package) are what
    data/derive_tables.py makes of the ONS layer in data/nhs/boundaries."""
    spec = importlib.util.spec_from_file_location("derive", ROOT / "data" / "derive_tables.py")
    assert spec is not None and spec.loader is not None
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    derive.local_authorities(tmp_path / "local_authorities.geojson")
    made = pyogrio.read_dataframe(tmp_path / "local_authorities.geojson")
    shipped = pyogrio.read_dataframe(
        ROOT / "mergeopt" / "geo" / "maps" / "local_authorities.geojson"
    )
    # compared as data, not bytes (another GDAL writes the same layer differently)
    assert made["name"].tolist() == shipped["name"].tolist(), "run python data/derive_tables.py"
    assert made.geometry.geom_equals_exact(shipped.geometry, tolerance=1e-5).all()


@pytest.mark.parametrize("name", ["hull_pcn", "hull_eight_groups", "somerset_yeovil_takeover"])
def test_an_example_is_the_shipped_config_reading_the_same_data(tmp_path, name):
    written = examples.copy_example(name, tmp_path / "ex")
    copied, shipped = load_config(written[0]), load_config(ROOT / "configs" / f"{name}.yaml")
    paths = {"inputs", "geography"}
    assert copied.model_dump(exclude=paths) == shipped.model_dump(exclude=paths)
    for key in ("practices", "premises"):
        a, b = getattr(copied.inputs, key), getattr(shipped.inputs, key)
        assert a.read_bytes() == b.read_bytes()
    assert copied.geography.boundary_values == shipped.geography.boundary_values
    assert (tmp_path / "ex" / "data" / "README.md").is_file()  # the data's licences travel too


def test_example_list_names_every_example():
    result = runner.invoke(app, ["example", "--list"])
    assert result.exit_code == 0
    for name in ("hull_pcn", "hull_eight_groups", "somerset_yeovil_takeover"):
        assert name in result.stdout


def test_example_copies_then_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "mine"
    first = runner.invoke(app, ["example", "hull_pcn", str(target)])
    assert first.exit_code == 0, first.stderr
    assert f"mergeopt run {target / 'hull_pcn.yaml'}" in first.stdout
    practices = target / "data" / "hull" / "practices.csv"
    practices.write_text("my own edits\n")
    again = runner.invoke(app, ["example", "hull_pcn", str(target)])
    assert again.exit_code == 2
    assert "use --force" in again.stderr and "\n" not in again.stderr.strip()
    assert practices.read_text() == "my own edits\n"  # nothing replaced
    forced = runner.invoke(app, ["example", "hull_pcn", str(target), "--force"])
    assert forced.exit_code == 0
    assert practices.read_text() != "my own edits\n"


def test_an_unknown_example_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["example", "leeds", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "no example 'leeds'" in result.stderr and "hull_pcn" in result.stderr
    assert not (tmp_path / "x").exists()


def test_version_is_the_installed_one():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mergeopt {__version__}"


def test_help_shows_flags_as_flags():
    for args in (["--help"], ["run", "--help"], ["sweep", "--help"], ["example", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout, args
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


def test_a_parquet_table_without_pyarrow_says_which_extra(tmp_path, monkeypatch):
    from mergeopt.inputs.tables import read_table

    table = tmp_path / "practices.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(table)
    real = importlib.import_module

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_pyarrow)
    with pytest.raises(InputError, match=r"needs pyarrow.*pip install 'mergeopt\[parquet\]'"):
        read_table(table)


#: What the wheel is built from: the package, the files pyproject.toml names, and the
#: build step and the national tables it copies in (setup.py).
_SOURCES = (
    "mergeopt",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "setup.py",
    "MANIFEST.in",
    "data",
)


def _copy_sources(target: Path) -> Path:
    """A copy of what the wheel is built from (:data:`_SOURCES`), in ``target``."""
    for name in _SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, target / name)
    return target


@pytest.mark.wheel
def test_the_wheel_runs_an_example_in_a_fresh_venv_outside_the_repository(tmp_path):
    """Build the wheel (offline, no build warnings), install it without dependencies into
    a new venv that borrows this environment's packages, then copy and run an example."""
    source = _copy_sources(tmp_path / "source")  # the build writes nothing in the tree
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(dist), str(source)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    warned = [line for line in (built.stdout + built.stderr).splitlines() if "Warning" in line]
    assert not warned, warned  # e.g. SetuptoolsDeprecationWarning
    (wheel,) = dist.glob("mergeopt-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # the dependencies come from this environment, as a plain path (its .pth files, and
    # so an editable mergeopt, are not read)
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "work"
    work.mkdir()
    scripts = python.parent
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    clean["PATH"] = f"{scripts}{os.pathsep}{clean.get('PATH', '')}"

    def mergeopt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(scripts / "mergeopt"), *args], capture_output=True, text=True, cwd=work,
            env=clean, check=False, timeout=600,
        )  # fmt: skip

    where = subprocess.run(
        [str(python), "-c", "import mergeopt; print(mergeopt.__file__)"],
        capture_output=True, text=True, cwd=work, env=clean, check=True,
    ).stdout  # fmt: skip
    assert str(env_dir) in where and str(ROOT) not in where, where
    places = subprocess.run(
        [str(python), "-c", "from mergeopt.geo.maps import layers; print(layers.LOCAL_AUTHORITIES.stat().st_size)"],
        capture_output=True, text=True, cwd=work, env=clean, check=False,
    )  # fmt: skip
    assert places.returncode == 0 and int(places.stdout) > 0, (
        places.stderr
    )  # an offline map's names
    assert mergeopt("--version").stdout.strip() == f"mergeopt {__version__}"
    copied = mergeopt("example", "hull_pcn", "hull")
    assert copied.returncode == 0, copied.stderr
    ran = mergeopt("run", "hull/hull_pcn.yaml")
    assert ran.returncode == 0, ran.stderr
    assert "optimal" in ran.stdout
    for name in ("assignments.csv", "groups.csv", "run.json", "map.png", "map.html"):
        assert (work / "runs" / "hull_pcn" / name).is_file(), name
    table = pd.read_csv(work / "runs" / "hull_pcn" / "assignments.csv")
    assert len(table) == 25

    # a new area from its code, as a commissioner starts one, from the national tables
    # the wheel carries (no clone, no data/ beside it)
    started = mergeopt("init", "--sub-icb", "03F")
    assert started.returncode == 0, started.stderr
    for name in ("practices.csv", "pcn.yaml", "boundary.geojson"):
        assert (work / "areas" / "03F" / name).is_file(), name
    assert "Hull" in (work / "areas" / "03F" / "pcn.yaml").read_text(encoding="utf-8")
    area = mergeopt("run", "areas/03F/pcn.yaml")
    assert area.returncode == 0, area.stderr
    assert "optimal" in area.stdout
    grouped = pd.read_csv(work / "runs" / "03F_pcn" / "assignments.csv")
    assert len(grouped) == 25  # Hull's practices, every one grouped


@pytest.mark.wheel
def test_the_sdist_carries_the_national_tables_into_the_wheel_built_from_it(tmp_path):
    """``python -m build`` (offline) makes the sdist, then the wheel from that sdist: the
    national tables ``init`` reads travel through both (MANIFEST.in, setup.py)."""
    source = _copy_sources(tmp_path / "source")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (sdist,) = dist.glob("mergeopt-*.tar.gz")
    (wheel,) = dist.glob("mergeopt-*.whl")
    with tarfile.open(sdist) as archive:
        packed = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            Path(info.filename).name: info.file_size
            for info in archive.infolist()
            if info.filename.startswith("mergeopt/runs/national/")
        }
    # the files init reads, as this clone resolves them (its data/ folder)
    for kept in (areas.NATIONAL_TABLE, areas.MAPPING, areas.CCG_LAYER):
        relative = kept.relative_to(ROOT / "data").as_posix()
        assert f"data/{relative}" in packed, relative
        assert shipped.get(kept.name) == kept.stat().st_size, relative


def test_help_says_what_evaluate_and_prepare_really_write():
    evaluate = runner.invoke(app, ["evaluate", "--help"], terminal_width=200).stdout
    assert "runs/<config name>-<grouping>" in evaluate
    prepare = runner.invoke(app, ["prepare", "--help"], terminal_width=200).stdout
    assert "_excluded.csv" in prepare and "run directory" not in prepare
