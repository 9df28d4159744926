"""``python -m bench``: run the registered benchmarks and update docs/BENCHMARKS.md."""

from bench.run import main

raise SystemExit(main())
