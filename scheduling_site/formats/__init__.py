"""The back-office's date and time formats, through Django's format localisation (FORMAT_MODULE_PATH).

One format throughout the admin, its lists, forms' read-only fields, the board, the palette and the
messages (docs/spec.md §12.1): "Mon 2 Mar 2026 10:00", 24-hour clock. A language without a module
here keeps Django's own formats for it; input formats stay Django's (ISO dates).
"""
