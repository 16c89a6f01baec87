"""Runs of many virtual trials: the runner that draws, simulates and summarises them, and their Results."""
