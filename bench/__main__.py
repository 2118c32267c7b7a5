"""`python -m bench [--quick] [--only files|jobs|streams|client] [--engines sqlite,postgres] ...`"""

from __future__ import annotations

import asyncio
import sys

from bench.options import parse_options
from bench.runner import run


def main(argv: list[str]) -> int:
    options = parse_options(argv)
    return asyncio.run(run(options, argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
