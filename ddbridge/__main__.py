import sys

from ddbridge.cli import main

sys.exit(main())
