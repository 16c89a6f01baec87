"""Inputs: params files, their schema and uncertainty distributions, the papers' reported figures, scenarios."""
