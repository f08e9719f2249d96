"""Organisations, user accounts, roles, sign-in and user administration."""
