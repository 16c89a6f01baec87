"""Dose-finding designs on the patient flow: 3+3, BOIN and TITE-BOIN, with operating characteristics.

The ``[design]`` section of a params or scenario file chooses the design (:mod:`sim.inputs.design_settings`); the
designs' rules are in :mod:`.rules_33`, :mod:`.boin` and :mod:`.tite`; :mod:`.dlt` turns the
model's own per-patient draws into dose-limiting toxicities at every dose level; :mod:`.trial_flow`
runs one virtual trial as a discrete-event simulation in which each decision is an event;
:mod:`.oc` repeats trials into operating characteristics, :mod:`.write` and :mod:`.plot` write
and draw them, :mod:`.exact` holds the exact 3+3 operating characteristics, and :mod:`.command`
is ``cartsim design``.
"""
