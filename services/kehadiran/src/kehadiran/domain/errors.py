"""Rule violations raised by kehadiran's domain and service layer; the API answers each with one
HTTP status and the reason as its message (``entrypoints/errors.py``). Nothing below the
entrypoints knows of HTTP."""


class RuleError(Exception):
    """Base of the rule violations; ``reason`` is fit to show the user (kinerja.i18n translates it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotAllowed(RuleError):
    """The caller may not see or do this (not their ASN, not their agency's devices): 403."""


class Unknown(RuleError):
    """No such thing, or one in another agency, which is as good as unknown to the caller: 404."""


class Conflicting(RuleError):
    """The stored state forbids it (decided already, a request over the same days waits): 409."""


class Refused(RuleError):
    """The request cannot be made as asked: 422, ``errors`` naming each field at fault with its
    reasons."""

    def __init__(self, reason: str, errors: dict[str, list[str]]):
        super().__init__(reason)
        self.errors = errors
