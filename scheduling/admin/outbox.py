"""Admin: outbox (placeholder until its issue lands)."""
