"""``python -m imptsh.sim`` runs the simulator CLI."""

import sys

from .server import main

sys.exit(main())
