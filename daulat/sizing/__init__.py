"""daulat.sizing."""
