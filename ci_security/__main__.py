"""`python -m ci_security`: the same entry point as the `ci-security` console script."""

from ci_security.cli import main

main()
