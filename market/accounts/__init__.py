"""Organisations, users, registration and login."""
