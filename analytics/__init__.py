"""Read-only SQL over documented views for leads (DESIGN §10)."""
