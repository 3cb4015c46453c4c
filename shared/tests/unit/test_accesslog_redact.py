"""``kinerja.accesslog.redact``: every spelling of ``access_token`` a query may carry is redacted,
and a value that cannot carry one is handed back as it is (the common case, kept cheap)."""
import pytest

from kinerja.accesslog import REDACTED, redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("line, expected", [
    ("GET /api/v1/stream?access_token=abc HTTP/1.1", f"GET /api/v1/stream?access_token={REDACTED} HTTP/1.1"),
    ("GET /s?x=1&ACCESS_TOKEN=abc HTTP/1.1", f"GET /s?x=1&ACCESS_TOKEN={REDACTED} HTTP/1.1"),
    ("GET /s?access%5Ftoken=abc HTTP/1.1", f"GET /s?access%5Ftoken={REDACTED} HTTP/1.1"),
    ("GET /s?%61ccess_token=abc HTTP/1.1", f"GET /s?%61ccess_token={REDACTED} HTTP/1.1"),
    ("GET /s?+access_token+=abc HTTP/1.1", f"GET /s?+access_token+={REDACTED} HTTP/1.1"),
])
def test_every_spelling_of_the_token_parameter_is_redacted(line, expected):
    assert redact(line) == expected


def test_a_query_string_alone_is_redacted_too():
    assert redact("a=1&access_token=abc", is_query=True) == f"a=1&access_token={REDACTED}"


@pytest.mark.parametrize("value", ["POST /iclock/cdata?SN=BENCH0001&table=ATTLOG&Stamp=1 HTTP/1.1",
                                   "SN=BENCH0001&table=ATTLOG", "/iclock/cdata", "access_token", 42, None])
def test_a_value_that_cannot_carry_the_token_is_left_as_it_is(value):
    assert redact(value) is value
