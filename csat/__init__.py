"""Customer satisfaction surveys after a solve (DESIGN §9)."""
