import sys

from mnist_digits.cli import main

sys.exit(main())
