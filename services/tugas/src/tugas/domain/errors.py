"""Rule violations shared by the domain modules; the API maps each to one HTTP status."""


class RuleError(Exception):
    """Base of the rule violations; ``reason`` is fit to show the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidInput(RuleError):
    """The request itself is wrong (a bad quantity, a missing note): 422, nothing changes."""


class NotAllowed(RuleError):
    """The caller is not the one who may do this (not the owner, not their supervisor): 403."""


class IllegalTransition(RuleError):
    """The thing is not in a state this action can start from: 409."""
