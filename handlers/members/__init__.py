"""The member's own side: first contact and consent, the profile, language, their data."""
