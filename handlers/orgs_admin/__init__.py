"""Organization management for confederation staff (super-admins) and organization admins."""
