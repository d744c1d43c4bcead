"""daulat.policy."""
