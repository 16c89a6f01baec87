"""Inputs: params files, their schema and uncertainty distributions, parameter draws, design settings, the papers'
reported figures, scenarios."""
