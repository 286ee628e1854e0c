"""`python -m events_async`: the `events-async` command."""

import sys

from .cli import main

sys.exit(main())
