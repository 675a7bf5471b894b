# English, as the back-office writes it (docs/spec.md §12.1); anything not set here is Django's own.
DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y H:i"
SHORT_DATETIME_FORMAT = "D j M H:i"
