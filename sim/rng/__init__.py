"""Random numbers: named counter-based streams, and numpy's SeedSequence words computed over arrays."""
