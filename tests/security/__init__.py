"""Security suite, split by concern; the shared world and helpers are in support.py."""
