"""Every generated stage's command: `python -m stages.unit -- <the unit's own command>` (pipeline.dag.runner)."""
import sys

from pipeline.dag.runner import main

if __name__ == "__main__":
    sys.exit(main())
