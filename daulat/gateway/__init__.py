"""daulat.gateway."""
