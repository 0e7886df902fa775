"""``python -m apitwin``: the same as the ``apitwin`` command."""

from apitwin.contracts.cli import main

main()
