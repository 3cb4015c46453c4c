"""The day worker's list parameters on PostgreSQL go as one text each (``raw_sql.joined``), split
by the server: a value holding the separator would split into two, so it is refused."""
import pytest

from kehadiran.adapters.raw_sql import SEP, joined


def test_a_list_is_one_text_the_server_splits_back():
    assert joined(["199001012015011001", "disdik"]) == f"199001012015011001{SEP}disdik"
    assert joined([]) == "" and joined(["x"]) == "x"


def test_a_value_holding_the_separator_is_refused():
    with pytest.raises(ValueError, match="separator"):
        joined(["a", f"b{SEP}c"])
