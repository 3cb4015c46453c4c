"""Rule violations of penilaian's service layer; the API maps each to one HTTP status
(``entrypoints/errors.py``), so the rules below the edge never speak HTTP."""


class RuleError(Exception):
    """Base of the rule violations; ``reason`` is fit to show the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotAllowed(RuleError):
    """The caller may not read or do this (not the ASN, not their supervisor, another agency): 403."""


class UnknownAsn(RuleError):
    """No such ASN for a caller who could otherwise see them: 404."""
