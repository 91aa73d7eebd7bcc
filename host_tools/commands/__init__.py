"""One module per `copflow` subcommand; each has `add_arguments(parser)` and `run(args)`."""
