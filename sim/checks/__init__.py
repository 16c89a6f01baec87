"""Checks of the model as a whole: a validation run against a paper's figures, and the speed benchmark."""
