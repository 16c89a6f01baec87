"""``python -m sim`` runs the command-line interface."""

from sim.cli.main import main

raise SystemExit(main())
