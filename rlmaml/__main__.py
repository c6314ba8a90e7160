import sys

from rlmaml.cli import main

sys.exit(main())
