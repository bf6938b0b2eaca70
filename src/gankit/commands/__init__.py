"""One module per `gankit` subcommand, each with add_parser(subparsers) and run(args)."""
