"""``python -m tctf_dynamo``: the same command as ``tctf-dynamo``."""

from __future__ import annotations

from tctf_dynamo.cli import main

raise SystemExit(main())
