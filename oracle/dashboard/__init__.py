"""`verdict dashboard`: the operators' web dashboard on 127.0.0.1 (see docs/operator-guide.md)."""

from oracle.dashboard.app import create_app, serve

__all__ = ["create_app", "serve"]
