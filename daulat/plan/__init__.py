"""daulat.plan."""
