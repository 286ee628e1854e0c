"""`python -m benchmarks`: run the harness."""

import sys

from .run import main

sys.exit(main())
