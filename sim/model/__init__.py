"""The clinical model: per-patient draws, the shared timeline, late hazards, records and the data cut-off."""
