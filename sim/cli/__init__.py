"""The ``cartsim`` command line: one module per subcommand; they parse arguments and call the library."""
