"""The organization's administration: /admin (roles) and its settings (quiet hours)."""
