"""What the advice says: one rule's change, the plan it gives, a region's advice and the
whole run's, and their text as ``mergeopt explain`` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mergeopt.config import Config
from mergeopt.runs.advice.limits import SCREEN_SECONDS, SUMMARY_REGIONS

Entry = str | tuple[str, str]
Value = int | float | str | tuple[int | None, int | None] | None


@dataclass(frozen=True)
class Change:
    """One rule's change: a dotted config key and its new value, or, for a rule that is a
    list (forbidden hubs, links, takeovers), the entries dropped from it (for remote
    practices, the codes added).

    Takeover entries are ``(member, hub)`` pairs; link entries are code pairs.
    """

    key: str
    value: Value = None
    dropped: tuple[Entry, ...] = ()
    added: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What a grouping looks like, in the figures a planner reads first."""

    groups: int
    practices: tuple[int, ...]  # practices per group, ascending
    singles: int  # groups of one practice below the minimum list size the config asks
    mean_travel: float  # patient-weighted
    max_travel: float
    unit: str
    remote: int = 0  # of those singles, remote practices standing alone by rule

    def describe(self) -> str:
        """``5 groups of 3-9 practices (median 6), mean travel 11.2 minutes, longest 24.6``."""
        low, high = self.practices[0], self.practices[-1]
        noun = "group" if self.groups == 1 else "groups"
        size = f"{low}" if low == high else f"{low}-{high}"
        median = f" (median {np.median(self.practices):g})" if self.groups > 2 else ""
        others = self.singles - self.remote
        singles = f", {others} of them a single practice below the minimum" if others else ""
        if self.remote:
            singles += f", {self.remote} a remote practice alone"
        return (
            f"{self.groups} {noun} of {size} practices{median}{singles}, mean travel "
            f"{self.mean_travel:.1f} {self.unit}, longest {self.max_travel:.1f}"
        )


@dataclass(frozen=True)
class Alternative:
    """A change of the rules, verified by solving with it.

    ``distance`` is how far the rule moves (the ranking key after ``degenerate``);
    ``note`` says whether a smaller change was proven not to work or only not settled.
    """

    rule: str
    text: str
    changes: tuple[Change, ...]
    overrides: dict[str, Any]
    plan: Plan
    distance: float
    degenerate: str | None = None
    note: str = ""


@dataclass(frozen=True)
class RegionAdvice:
    """Why one region's rules cannot all be met, and the changes that would let them.

    ``region`` and ``name`` are None for a run that is not split into regions.
    ``combined`` is the smallest set of changes found when no single non-degenerate
    change is enough (else the first alternative's); empty when none was found.
    """

    region: str | None
    name: str | None
    practices: int
    patients: int
    reasons: list[str]
    alternatives: list[Alternative]
    combined: Alternative | None
    searched: list[str] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.region is None:
            return "the area"
        return f"{self.region}" + (f" {self.name}" if self.name else "")

    @property
    def best(self) -> Alternative | None:
        """The change to make: the first non-degenerate alternative, else the combination."""
        first = self.alternatives[0] if self.alternatives else None
        if first is not None and first.degenerate is None:
            return first
        return self.combined or first


@dataclass(frozen=True)
class Advice:
    """The advice for a whole config: its failing regions, explained one by one.

    ``overrides`` are the config changes (dotted keys) that together let the whole run's
    rules be met, verified on every failing region; empty when none was found.
    ``unsettled`` names regions that neither solved nor failed within the time.
    """

    config: Config
    column: str | None
    regions: int
    failing: list[RegionAdvice]
    unsettled: list[str]
    overrides: dict[str, Any]
    seconds: float
    budget: float
    solve_seconds: float

    @property
    def feasible(self) -> bool:
        """True when every region's rules were met (nothing to explain)."""
        return not self.failing and not self.unsettled

    def lines(self) -> list[str]:
        """The advice as printed by ``mergeopt explain``."""
        return render(self)

    def summary(self) -> str:
        """One line for an error message: what blocks, and the first change that works.

        Beyond :data:`SUMMARY_REGIONS` failing regions (all of England nested by ICB at a
        20-minute limit fails in 25), it names the regions and the changes that together
        let every one of them be met; ``explain`` gives each region's reasons and changes.
        """
        if len(self.failing) > SUMMARY_REGIONS:
            return self._summary_of_many()
        parts = []
        for region in self.failing:
            where = f"{region.label}: " if region.region is not None else ""
            reason = "; ".join(region.reasons[:2])
            best = region.best
            fix = (
                f"; first change that works: {best.text} ({overrides_text(best.overrides)})"
                if best
                else ""
            )
            parts.append(f"{where}{reason}{fix}")
        if self.unsettled:
            parts.append(f"not settled within the time: {', '.join(self.unsettled)}")
        return "; ".join(parts) + " (`mergeopt explain` ranks every change that works)"

    def _summary_of_many(self) -> str:
        codes = ", ".join(region.region or region.label for region in self.failing)
        parts = [
            f"the rules cannot all be met in {len(self.failing)} of {self.regions} regions "
            f"({self.column}): {codes}"
        ]
        if self.overrides:
            parts.append(
                "these changes together let every one of them be met: "
                + overrides_text(self.overrides)
            )
        else:
            firsts = [
                f"{region.region or region.label} {overrides_text(region.best.overrides)}"
                for region in self.failing
                if region.best is not None
            ]
            parts.append("no one set of changes for them all was found in the time")
            if firsts:
                parts.append("the first change that works in each: " + ", ".join(firsts))
        if self.unsettled:
            parts.append(f"not settled within the time: {', '.join(self.unsettled)}")
        return "; ".join(parts) + (
            " (`mergeopt explain` gives each region's reasons and ranks every change that works)"
        )


def overrides_text(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {value_text(value)}" for key, value in overrides.items())


def value_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{_number(value)}"
    return str(value)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 6)


def render(advice: Advice) -> list[str]:
    """The advice as ``explain`` prints it: a headline, then each failing region."""
    if advice.feasible:
        return ["the rules can all be met; nothing to explain"]
    nested = advice.column is not None
    if nested:
        met = advice.regions - len(advice.failing) - len(advice.unsettled)
        lines = [
            f"the rules cannot all be met in {len(advice.failing)} of {advice.regions} "
            f"regions ({advice.column}), each solved on its own; {met} meet them"
        ]
    else:
        region = advice.failing[0] if advice.failing else None
        size = f" ({region.practices} practices, {region.patients:,} patients)" if region else ""
        lines = [f"the rules cannot all be met{size}"]
    for region in advice.failing:
        lines += _render_region(region, nested=nested)
    if advice.unsettled:
        lines.append(
            f"not settled within {max(advice.solve_seconds, SCREEN_SECONDS):g} s: "
            f"{', '.join(advice.unsettled)} (neither solved nor proven impossible)"
        )
    if advice.overrides and len(advice.failing) > 1:
        lines.append("these config changes together let every region's rules be met (solved):")
        lines += [f"  {key}: {value_text(value)}" for key, value in advice.overrides.items()]
    lines.append(
        f"searched for {advice.seconds:.0f} s (at most {advice.budget:g} s for each region that "
        f"fails; each solve at most {advice.solve_seconds:g} s, on that region alone)"
    )
    return lines


def _render_region(region: RegionAdvice, *, nested: bool) -> list[str]:
    lines = []
    if nested:
        lines.append(
            f"{region.label} ({region.practices} practices, {region.patients:,} patients)"
        )
    lines += [f"  why: {reason}" for reason in region.reasons]
    if region.alternatives:
        lines.append(
            "  the smallest change of one rule that lets every rule hold, best first (each "
            "checked by solving with it):"
        )
    for k, alt in enumerate(region.alternatives, start=1):
        note = f" ({alt.note})" if alt.note else ""
        lines.append(f"  {k}. {alt.text}{note}")
        lines.append(f"     {overrides_text(alt.overrides)}")
        lines.append(f"     plan: {alt.plan.describe()}")
        if alt.degenerate:
            lines.append(f"     degenerate: {alt.degenerate}, which defeats the rule's purpose")
    if not region.alternatives:
        lines.append("  no change of one rule alone lets every rule hold")
    combined = region.combined
    if combined is not None and combined.rule == "together":
        lines.append("  changes needed together (each one necessary; checked by solving):")
        lines.append(f"     {combined.text}")
        lines.append(f"     {overrides_text(combined.overrides)}")
        lines.append(f"     plan: {combined.plan.describe()}")
    elif combined is None and not any(a.degenerate is None for a in region.alternatives):
        lines.append("  no set of changes found that lets every rule hold")
    if region.unsearched:
        lines.append(f"  not searched within the time budget: {', '.join(region.unsearched)}")
    return lines
