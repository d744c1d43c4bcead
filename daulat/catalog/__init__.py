"""daulat.catalog."""
