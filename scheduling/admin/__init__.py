"""The admin back-office, one module per area; importing them registers their ModelAdmins."""

from scheduling.admin import calendars, outbox, reports, scheduling, series, webhooks  # noqa: F401
