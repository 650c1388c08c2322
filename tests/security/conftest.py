"""The security suite's fixtures (defined in support.py, beside the helpers they use)."""

from tests.security.support import hostile, small_limits_app, strict_app, world  # noqa: F401
