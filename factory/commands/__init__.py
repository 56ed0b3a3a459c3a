"""Command groups of the CLI, one module each; `factory.cli` assembles them."""
