"""Inbound and outbound e-mail: SMTP receiver, inbound API, processing, replies (DESIGN §8)."""
