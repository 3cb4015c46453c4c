"""Every rule violation kehadiran's service layer raises leaves as the HTTP status it always did,
with its reason as the description the API's error body is made of."""
import pytest
from werkzeug.exceptions import Conflict, Forbidden, NotFound

from kehadiran.domain import errors
from kehadiran.entrypoints.errors import as_http


@pytest.mark.parametrize("kind, status", [(errors.NotAllowed, Forbidden), (errors.Unknown, NotFound),
                                          (errors.Conflicting, Conflict)])
def test_each_kind_becomes_its_status_with_the_reason(kind, status):
    http = as_http(kind("you may not see the attendance of 199001012020011001"))
    assert type(http) is status
    assert http.description == "you may not see the attendance of 199001012020011001"


def test_every_kind_the_domain_declares_has_a_status():
    kinds = [k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, errors.RuleError)
             and k is not errors.RuleError]
    made = [k("x", {"day": ["y"]}) if k is errors.Refused else k("x") for k in kinds]
    assert made and all(as_http(e).code in (403, 404, 409, 422) for e in made)


def test_a_refused_request_names_each_field_at_fault():
    http = as_http(errors.Refused("the correction cannot be asked for", {"date": ["2026-10-01 is too long ago"]}))
    assert http.code == 422 and http.description == "the correction cannot be asked for"
    assert http.data["messages"] == {"date": ["2026-10-01 is too long ago"]}
