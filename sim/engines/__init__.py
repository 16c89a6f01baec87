"""Engines that resolve the queues (SimPy and cohort arrays), the trial runner, and the benchmark reference."""
