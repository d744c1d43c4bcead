"""daulat.scenario."""
