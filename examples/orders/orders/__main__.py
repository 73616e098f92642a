"""`python -m orders`: the orders command line."""

from orders.cli import main

raise SystemExit(main())
