"""The public help center: knowledge base, contact form, deflection (DESIGN §9)."""
