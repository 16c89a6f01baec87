"""Analyses against the papers and between scenarios: validation, calibration, comparison."""
