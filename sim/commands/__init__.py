"""One module per ``cartsim`` subcommand; each has ``add_parser(commands)`` and ``run(args, argv)``.

``COMMANDS`` lists them in the order ``cartsim --help`` shows.
"""

from ..design import command as design
from . import bench, calibrate, compare, plot, run, sensitivity, validate

COMMANDS = [run, compare, plot, bench, validate, calibrate, sensitivity, design]
