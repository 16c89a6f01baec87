"""``python -m sim`` runs the command-line interface."""

import sys

try:
    from sim.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: as in a command, one line and status 130
    print("\ncartsim: interrupted; nothing was written", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
