"""`python -m rag.perf`: the performance bench (see rag.perf.run)."""

import sys

from rag.perf.run import main

sys.exit(main())
