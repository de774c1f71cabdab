"""The confederation: its organizations (and networks), managed by its staff (super-admins) and by
each organization's own admins."""
