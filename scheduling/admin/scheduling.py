"""Admin: scheduling (placeholder until its issue lands)."""
