"""Errors a service raises when a rule refuses a change."""


class RuleBroken(Exception):
    """A business rule refused the change; ``field`` names the form field to blame."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
