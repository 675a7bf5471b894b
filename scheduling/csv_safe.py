"""The one way this project writes CSV: text cells that a spreadsheet would run as a formula are
neutralised (docs/spec.md §10.1.6).

A resource named `=HYPERLINK("http://evil", "Open")` or `-1+cmd|' /C calc'!A0` would otherwise be
evaluated by Excel or LibreOffice when a manager opens the report. OWASP's advice ("CSV Injection"):
prefix a `'` to every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, so the
spreadsheet shows it as text. Only text is prefixed: a number written as a number (`-0.5` hours)
is read back as a number, which cannot run anything, and must stay summable.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as written: text that starts like a formula gets a leading `'`; anything else as is."""
    if isinstance(value, (int, float, Decimal)) or value is None:
        return value
    # Other objects (dates, lazy strings) are written as their text, so their text is checked too.
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """`csv.writer` whose every cell goes through `neutralise`."""

    def __init__(self, out, **kwargs):
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Sequence) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Sequence]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """`csv.DictWriter` whose every cell goes through `neutralise` (the header row too)."""

    def __init__(self, out, fieldnames: Sequence[str], **kwargs):
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(out, **kwargs)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping) -> None:
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"dict contains fields not in fieldnames: {', '.join(map(repr, sorted(unknown)))}")
        self._writer.writerow([row.get(name, "") for name in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping]) -> None:
        for row in rows:
            self.writerow(row)
