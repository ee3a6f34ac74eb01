"""``python -m tmax.cli`` is ``tmax``."""

from tmax.cli import main

main()
