"""Engines that resolve the queues: SimPy processes, or cohort arrays."""
