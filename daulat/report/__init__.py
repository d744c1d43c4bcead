"""daulat.report."""
