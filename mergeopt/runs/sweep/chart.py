"""comparison.png: a sweep's figures against the varied value, one panel each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from mergeopt.runs.sweep.table import SOLVED

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


_PANELS = (
    ("objective", "objective"),
    ("mean_travel", "mean travel to hub ({unit}, patient-weighted)"),
    ("max_travel", "longest travel to hub ({unit})"),
    ("group_size", "smallest and largest group (patients)"),
    ("practices_moved", "practices that change group"),
    ("groups", "groups"),
)


_MARKS = {  # status -> (marker, colour, legend)
    "infeasible": ("x", "tab:red", "infeasible"),
    "no_solution": ("x", "tab:orange", "no grouping in time"),
    "failed": ("X", "black", "failed (error)"),
}


def plot_comparison(
    table: pd.DataFrame,
    varied: Sequence[str],
    *,
    title: str = "",
    figure: Figure | None = None,
) -> tuple[Figure, list[Axes]]:
    """The figures of a comparison table against the varied value, one panel each.

    One varied numeric key: a line chart with that key on the x-axis. Several keys, or
    text values (regions): one position per scenario. Solved scenarios are dots (hollow:
    feasible, not proven optimal); infeasible, timed-out and failed ones are crosses at
    the foot of each panel. Draws on ``figure`` (default: a new one, not registered with
    pyplot) and returns ``(figure, axes)``.
    """
    from matplotlib.figure import Figure

    spread = [k for k in varied if k in table and table[k].astype(str).nunique() > 1]
    x, labels, xlabel = _x_positions(table, spread or list(varied))
    size = (max(12.0, min(40.0, 0.84 * len(table))) if labels else 12.0, 7.5)
    if figure is None:
        figure = Figure(figsize=size, layout="constrained")
    else:
        figure.set_size_inches(*size)
        figure.set_layout_engine("constrained")
    axes = list(figure.subplots(2, 3).ravel())
    unit = _unit(table)
    for ax, (name, label) in zip(axes, _PANELS, strict=True):
        _draw_panel(ax, table, name, x, connect=not labels)
        ax.set_title(label.format(unit=unit), fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(alpha=0.3)
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        elif len(set(x)) <= 15:
            ax.set_xticks(sorted(set(x)))
        if name in ("groups", "practices_moved"):
            _integer_axis(ax)
        if table.empty:
            ax.text(0.5, 0.5, "no scenario finished", ha="center", transform=ax.transAxes)
    handles = _legend(table)
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9)
    figure.suptitle(title or "sweep", fontsize=12)
    return figure, axes


def _draw_panel(
    ax: Axes, table: pd.DataFrame, name: str, x: list[float], *, connect: bool
) -> None:
    """One metric's dots (a line through them for a numeric x), crosses for the unsolved."""
    solved = table["status"].isin(SOLVED).to_numpy()
    proven = (table["status"] == "optimal").to_numpy()
    keep = sorted((k for k in range(len(table)) if solved[k]), key=lambda k: x[k])
    pairs = [("smallest_group", "tab:blue"), ("largest_group", "tab:purple")]
    for column, colour in pairs if name == "group_size" else [(name, "tab:blue")]:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        label = column.replace("_group", "") if name == "group_size" else None
        if connect and keep:
            ax.plot([x[k] for k in keep], values[keep], color=colour, lw=1.2)
        for n, k in enumerate(keep):
            face = colour if proven[k] else "white"
            ax.plot(x[k], values[k], "o", color=colour, mfc=face, label=label if n == 0 else None)
    if name == "group_size" and keep:
        ax.legend(fontsize=8, loc="best")
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for status, (marker, colour, _) in _MARKS.items():
        where = [x[k] for k in range(len(table)) if table["status"].iloc[k] == status]
        if where:
            ax.plot(where, [0.04] * len(where), marker, color=colour, ms=8, transform=transform)


def _integer_axis(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    low, high = ax.get_ylim()
    if high - low < 2:
        middle = round((low + high) / 2)
        ax.set_ylim(middle - 1.5, middle + 1.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _legend(table: pd.DataFrame) -> list[Any]:
    from matplotlib.lines import Line2D

    present = set(table["status"])
    handles = []
    if "optimal" in present:
        handles.append(Line2D([], [], marker="o", ls="", color="tab:blue", label="optimal"))
    if "feasible" in present:
        label = "feasible, not proven optimal"
        handles.append(
            Line2D([], [], marker="o", ls="", color="tab:blue", mfc="white", label=label)
        )
    for status, (marker, colour, text) in _MARKS.items():
        if status in present:
            handles.append(Line2D([], [], marker=marker, ls="", color=colour, label=text))
    return handles


def _x_positions(table: pd.DataFrame, varied: list[str]) -> tuple[list[float], list[str], str]:
    """x of each row; tick labels when positions are categorical; the axis label."""
    if len(varied) == 1:
        values = table[varied[0]] if varied[0] in table else pd.Series(dtype=float)
        numeric = pd.to_numeric(values, errors="coerce")
        boolean = values.map(lambda v: isinstance(v, bool)).any()
        if len(values) and numeric.notna().all() and not boolean:
            return [float(v) for v in numeric], [], varied[0]
        return list(map(float, range(len(values)))), [str(v) for v in values], varied[0]
    return list(map(float, range(len(table)))), [str(s) for s in table["scenario"]], "scenario"


def _unit(table: pd.DataFrame) -> str:
    units = sorted({str(u) for u in table["travel_unit"].dropna()}) if len(table) else []
    return "/".join(units) or "minutes"
