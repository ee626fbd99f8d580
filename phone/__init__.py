"""Phone calls recorded against tickets (DESIGN §8)."""
