"""Admin: reports (placeholder until its issue lands)."""
