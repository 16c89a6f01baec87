"""Random numbers: named counter-based streams, and parameter draws with common random numbers."""
