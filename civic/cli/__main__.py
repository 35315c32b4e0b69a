"""`python -m civic.cli`."""

from civic.cli import main

main()
