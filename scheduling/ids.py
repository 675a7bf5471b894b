"""Row ids from untrusted text (query strings, JSON, webhook metadata).

`str.isdigit()` also accepts digits such as "²" that `int()` refuses, and a number past 2**63 makes
the database driver overflow: both would be 500s. Only ASCII digits within a bigint are ids.
"""

import re

MAX_ID = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_id(value) -> int | None:
    """The id that `value` spells, or None when it spells none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None
