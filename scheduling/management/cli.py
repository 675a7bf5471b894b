"""What the report and demo commands share: argument types, errors that name the option, tables,
and progress bars.

Progress bars go to stderr and only for a person at a terminal: output that is piped or redirected
(a CSV going to a spreadsheet, a CI log) never gets one, and a short run gets none either, since the
bar appears only once the work has lasted a second.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from scheduling.ids import INVALID_ID_MESSAGE, parse_id


def iso_date(value: str) -> dt.date:
    """argparse type: a calendar date as YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD.") from None


def row_id(value: str) -> int:
    """argparse type: a row id (`parse_id`: ASCII digits within a bigint; `int()` would take "٣")."""
    number = parse_id(value)
    if number is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id. {INVALID_ID_MESSAGE}")
    return number


def int_at_least(low: int) -> Callable[[str], int]:
    """argparse type: an integer no smaller than `low`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not an integer.") from None
        if number < low:
            raise argparse.ArgumentTypeError(f"{number} is less than {low}.")
        return number

    return parse


def command_error(error: ValidationError) -> CommandError:
    """A service's ValidationError as a CommandError whose lines name the options (field `to` → `--to`)."""
    lines = [f"--{name}: {message}" for name, messages in error.message_dict.items() for message in messages]
    return CommandError("\n".join(lines))


def text_table(headers: Sequence[str], rows: Iterable[Sequence], *, align_left: int = 1) -> str:
    """Columns padded to their widest cell; the first `align_left` columns left-aligned, numbers right."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        lines.append("  ".join(v.ljust(w) if i < align_left else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


SHOW_AFTER_SECONDS = 1.0


def on_a_terminal(command: BaseCommand) -> bool:
    return command.stdout.isatty() and command.stderr.isatty()


def progress_bar(command: BaseCommand, *, total: int | None, desc: str, unit: str = "") -> tqdm:
    """A bar to `update()` by hand (a counter when total is None); a no-op unless both output streams are terminals."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        # The raw stream: Django's OutputWrapper would end every redraw with a newline.
        file=command.stderr._out,
        disable=not on_a_terminal(command),
        delay=SHOW_AFTER_SECONDS,
        leave=False,
    )


def iterate_with_progress(command: BaseCommand):
    """A `Progress` callable for the report services: each of their loops gets a bar named by its label."""

    def wrap(items: Iterable, total: int | None, label: str) -> Iterable:
        with progress_bar(command, total=total, desc=label) as bar:
            for item in items:
                yield item
                bar.update(1)

    return wrap
