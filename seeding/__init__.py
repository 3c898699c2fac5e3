"""seeding."""
