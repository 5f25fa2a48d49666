"""`python -m netagent` runs the CLI."""

from netagent.entry import main

raise SystemExit(main())
