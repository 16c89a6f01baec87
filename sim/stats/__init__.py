"""Statistics of virtual trials: Kaplan-Meier, Aalen-Johansen, per-trial figures, key outcomes, facilities, flow."""
