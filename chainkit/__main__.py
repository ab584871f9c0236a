"""``python -m chainkit``: the same as the ``chainkit`` command."""

from chainkit.cli import main

raise SystemExit(main())
