#!/usr/bin/python3 -s
"""netagent (Amazon Linux 2023 package): run the program kept in /opt/netagent/lib.

The directory is found from this script's own place (../../opt/netagent/lib), so a tree
installed under another root (rpm --root) runs its own copy. It goes first on sys.path: the
bundled pyroute2 and structlog, with AL2023's python3-pyyaml and python3-psutil from the system.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "opt", "netagent", "lib"))

from netagent.entry import main

sys.exit(main())
