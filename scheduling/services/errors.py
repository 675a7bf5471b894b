"""Domain errors that the API and the admin translate into 409 answers and form errors."""

from scheduling.engine import Conflict


class BookingConflict(Exception):
    """The requested interval is not available; `conflicts` says why."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        kinds = ", ".join(sorted({c.kind for c in conflicts}))
        # An exception's reason says what blocks (leave, a holiday, a named external calendar).
        reasons = "; ".join(dict.fromkeys(c.reason for c in conflicts if c.reason))
        super().__init__(f"The resource is not available for that time ({kinds}{': ' + reasons if reasons else ''}).")


class InvalidTransition(Exception):
    """A status change that the booking life cycle does not allow."""

    def __init__(self, current: str, requested: str):
        self.current = current
        self.requested = requested
        super().__init__(f"A {current} booking cannot become {requested}.")
