"""daulat.store."""
