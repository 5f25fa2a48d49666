"""`python -m netagent` runs the CLI."""

from netagent.cli import main

raise SystemExit(main())
