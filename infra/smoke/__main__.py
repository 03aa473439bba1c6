"""python -m infra.smoke (`make smoke`): infra/smoke/runner.py's main."""
import sys

from infra.smoke.runner import main

sys.exit(main())
