"""``python -m mnist_digits`` runs the CLI (also under ``torchrun``)."""

import sys

from mnist_digits.cli import main

sys.exit(main())
