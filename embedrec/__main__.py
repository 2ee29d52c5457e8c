"""``python -m embedrec``: the same CLI as the ``embedrec`` console script."""

from embedrec.cli import main

main()
