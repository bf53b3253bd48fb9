"""How a command runs: its warnings and a mergeopt error each one line on standard error,
the error's exit code (the table in :mod:`mergeopt.cli`'s docstring), 130 when
interrupted, and the last resort for a failure mergeopt did not foresee: one line saying
what failed and where its full report was saved (``--debug`` shows the traceback).
Also the command group's help, where flags show as flags."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.markup import escape
from typer.core import TyperGroup

from mergeopt._errors import InputWarning, MergeoptError
from mergeopt._report import save_report, summary, where
from mergeopt.screen import err_console


class Commands(TyperGroup):
    """The command group, with flags shown as flags in help (no ``<bool>``, as if they
    took a value)."""

    # click's types, as typer uses them (its own copy of click since typer 0.29)
    def get_params(self, ctx: Any) -> Any:
        return _flags_plain(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _flags_plain(command.get_params(ctx))
        return command


def _flags_plain(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class App(typer.Typer):
    """The command line, with the last-resort handler around every command."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if DEBUG["on"]:
                raise
            words = [word for word in sys.argv[1:] if not word.startswith("-")]
            unexpected(exc, words[0] if words else None)
            sys.exit(1)


T = TypeVar("T")


#: Whether ``--debug`` was given: a failure mergeopt did not foresee shows its traceback.
DEBUG = {"on": False}


def unexpected(error: Exception, command: str | None) -> None:
    """The last resort: one line saying what failed, where, and where its full report is."""
    failed = f"mergeopt {command}" if command else "mergeopt"
    place = where(error)
    at = f" at {place}" if place else ""
    report = save_report(error)
    saved = (
        f"the full report is saved in {report}: please attach it to an issue"
        if report is not None
        else "no report could be saved"
    )
    err_console.print(
        f"[bold red]error:[/] {escape(failed)} failed unexpectedly "
        f"({escape(summary(error))}{at}); {escape(saved)} (--debug shows the traceback)",
        highlight=False,
        soft_wrap=True,
    )


def guarded(action: Callable[[], T]) -> T:
    """Run an action; print its warnings and a mergeopt error as one line each, and exit
    with the error's code."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            try:
                return action()
            finally:
                for warning in caught:
                    err_console.print(
                        f"[bold yellow]warning:[/] {escape(str(warning.message))}",
                        highlight=False,
                        soft_wrap=True,
                    )
    except MergeoptError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing was written")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise  # a command's own exit code (a sweep interrupted: 130)
    except Exception as exc:
        if DEBUG["on"]:
            raise
        unexpected(exc, action.__qualname__.split(".")[0].rstrip("_"))  # run.<locals>.action
        raise typer.Exit(1) from None
