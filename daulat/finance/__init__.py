"""daulat.finance."""
