"""`python -m sync.destinations`: print models/exposures.yml as the destinations describe themselves."""

import sys

from sync.destinations import exposures_yaml

sys.stdout.write(exposures_yaml())
