"""Alembic migrations of the daulat store (shipped inside the package)."""
