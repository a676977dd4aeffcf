"""Alembic migrations of the collector's database (the only way its schema is created)."""
