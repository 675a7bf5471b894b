"""Writes and questions of the scheduling domain, shared by the API, the admin and the commands."""
