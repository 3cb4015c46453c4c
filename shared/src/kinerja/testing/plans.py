"""Reading the plans statements really ran with, for tests that hold a statement's work to its size
(rows examined, loops: counts, not milliseconds): ``auto_explain`` on a connection sends each
executed plan, with its ``ANALYZE`` counts, to the client as a notice."""
from __future__ import annotations

import json
import re

# run on a connection before the statements watched; the timeout is a guard, not the check (a
# plan that rescans a table per row would otherwise run for minutes before its counts are known)
AUTO_EXPLAIN = (
    "LOAD 'auto_explain'",
    "SET auto_explain.log_min_duration = 0",
    "SET auto_explain.log_analyze = on",
    "SET auto_explain.log_timing = off",
    "SET auto_explain.log_format = json",
    "SET auto_explain.log_level = notice",
    "SET statement_timeout = '60s'",
)
# ``x = ANY($n)`` / ``x <> ALL($n)``: a list still a parameter in the executed plan (a generic plan):
# looked through element by element for each row. Planned with the list known, the plan shows a
# constant array, which PostgreSQL 15+ hashes (14 hashes ``= ANY`` only)
LIST_PARAMETER = re.compile(r"(ANY|ALL) \(\(?\$\d")


class PlanLog:
    """The plans of the statements run on the connections it is attached to, in order."""

    def __init__(self):
        self.plans: list[dict] = []

    def attach(self, dbapi_conn) -> None:
        """``dbapi_conn``: a psycopg connection (autocommit or not; committed after)."""
        with dbapi_conn.cursor() as cur:
            for statement in AUTO_EXPLAIN:
                cur.execute(statement)
        if not dbapi_conn.autocommit:
            dbapi_conn.commit()
        dbapi_conn.add_notice_handler(self._notice)

    def _notice(self, diag) -> None:
        message = diag.message_primary or ""
        if "plan:" in message:
            self.plans.append(json.loads(message[message.index("{"):]))

    def since(self, first: int, text: str) -> list[dict]:
        """The plans logged from the ``first``-th on whose statement contains ``text``."""
        return [p for p in self.plans[first:] if text in p["Query Text"]]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def examined(node: dict) -> float:
    """Rows a node produced or looked at and dropped, over all its loops (EXPLAIN gives each count
    per loop)."""
    per_loop = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Join Filter", 0) + node.get("Rows Removed by Index Recheck", 0))
    return per_loop * node.get("Actual Loops", 1)


def rows_examined(plan: dict) -> float:
    """Every node's ``examined`` summed: a statement's work in rows."""
    return sum(examined(n) for n in nodes(plan["Plan"]))


def faults(plan: dict, most_rows: float, few_rows: int = 100) -> list[str]:
    """What in one executed plan is out of proportion: more than ``most_rows`` rows examined in
    all, a list parameter looked through per row over more than ``few_rows`` rows, more than
    ``few_rows`` rows of a table looked at again in each of several loops (a rescan per outer row;
    an index probe per outer row, a row or two each, is fine)."""
    out = []
    total = rows_examined(plan)
    if total > most_rows:
        out.append(f"{total:.0f} rows examined (at most {most_rows:.0f})")
    for node in nodes(plan["Plan"]):
        name = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
        for field in ("Filter", "Join Filter"):
            if LIST_PARAMETER.search(node.get(field, "")) and examined(node) > few_rows:
                out.append(f"{name}: a list parameter looked through for each of {examined(node):.0f} rows "
                           f"({field}: {node[field]})")
        loops = node.get("Actual Loops", 1)
        if "Relation Name" in node and loops > 1 and examined(node) / loops > few_rows:
            out.append(f"{name}: {examined(node) / loops:.0f} rows scanned again in each of {loops} loops")
    return out


# -- a PostgreSQL database with statistics as a live one can have them --------------------------------
# (the plan tests' set-up: statistics taken nearly empty or mid-burst, kept so while rows are added)
def sql(engine, statement: str, **params) -> list:
    """``statement`` in a transaction of its own; its rows, if any."""
    from sqlalchemy import text

    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def keep_statistics(engine) -> None:
    """Autovacuum off on every table: the statistics stay as the test takes them."""
    for (table,) in sql(engine, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        sql(engine, f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)')


def analyse(engine, vacuum: bool = False) -> None:
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if vacuum else "ANALYZE"))


def clone_rows(engine, table: str, template: str, first: int, last: int, made: dict[str, str]) -> None:
    """``table``'s rows of the ASN ``template`` copied once for each ``i`` of ``first``..``last``,
    each column as it is but those of ``made``: a SQL expression of ``i`` (and of the row, ``t``)."""
    columns = [c for (c,) in sql(engine, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = :t ORDER BY ordinal_position", t=table)]
    select = ", ".join(made.get(c, f't."{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql(engine, f"INSERT INTO {table} ({names}) SELECT {select} FROM {table} AS t, "
                "generate_series(CAST(:a AS integer), CAST(:b AS integer)) AS i WHERE t.nip = :tpl",
        a=first, b=last, tpl=template)


NEARLY_EMPTY, MID_BURST = "planned while nearly empty", "analysed during a burst"


def store_with_statistics(engine, how: str, *, clone, rows: int, burst: int, quiet=lambda: None) -> None:
    """Rows 1..``rows`` stored (``clone(engine, first, last)``) with the statistics ``how``:
    ``NEARLY_EMPTY``, taken (``VACUUM ANALYZE``) before any of them and the statements then run a
    dozen times (``quiet``: more than psycopg's 5 runs before it prepares one and the server's 5
    custom plans before it keeps a generic one); ``MID_BURST``, taken when the first ``burst`` were
    stored. Call ``keep_statistics`` first."""
    if how == NEARLY_EMPTY:
        analyse(engine, vacuum=True)
        quiet()
        clone(engine, 1, rows)
    else:
        assert how == MID_BURST, how
        clone(engine, 1, burst)
        analyse(engine)
        clone(engine, burst + 1, rows)
