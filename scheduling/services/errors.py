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


class SessionRefused(Exception):
    """An attendance write the session's state does not allow (docs/spec.md §17.4): a 409."""


class InvalidTransition(Exception):
    """A status change that the booking life cycle does not allow."""

    def __init__(self, current: str, requested: str):
        self.current = current
        self.requested = requested
        super().__init__(f"A {current} booking cannot become {requested}.")


class PartOfGroup(Exception):
    """A booking that is a part of a group was asked to change alone."""

    def __init__(self, booking_id: int, group_id: int):
        self.booking_id = booking_id
        self.group_id = group_id
        super().__init__(
            f"Booking {booking_id} belongs to group {group_id}; move or change it with /api/scheduling/booking_group/{group_id}."
        )


class GroupConflict(Exception):
    """Some part of a group is not available; `conflicts` pairs each resource id with a conflict."""

    def __init__(self, conflicts: list[tuple[int, Conflict]]):
        self.conflicts = conflicts
        resources = ", ".join(str(r) for r in sorted({r for r, _ in conflicts}))
        super().__init__(f"Not every resource is available for that time (resource {resources}); nothing was written.")


class SeriesConflict(Exception):
    """In all-or-nothing mode, some occurrence conflicts; `occurrences` carries every occurrence's result."""

    def __init__(self, occurrences: list):
        self.occurrences = occurrences
        count = sum(1 for o in occurrences if o.conflicts)
        super().__init__(f"{count} occurrence(s) of the series conflict; nothing was written.")


class PartOfSession(PartOfGroup):
    """A booking that holds a session's resource was asked to change alone."""

    def __init__(self, booking_id: int, session_id: int):
        self.booking_id = booking_id
        self.group_id = None
        self.session_id = session_id
        Exception.__init__(self, f"Booking {booking_id} holds the resource for session {session_id}; change it with /api/scheduling/session/{session_id}.")
