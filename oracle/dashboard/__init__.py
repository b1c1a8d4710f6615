"""`verdict dashboard`: the operators' web dashboard on 127.0.0.1 (see docs/operator-guide.md).

`create_app` and `serve` are imported on first use: `oracle.dashboard.listen` (the port check that
`make demo-dashboard` runs first) then loads without the web stack."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from oracle.dashboard import app

        return getattr(app, name)
    raise AttributeError(f"module 'oracle.dashboard' has no attribute {name!r}")
