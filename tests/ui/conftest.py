"""UI-quality fixtures: the shared app, session and people fixtures of tests/conftest.py suffice."""
