"""A consumer transaction's first statement: its event ids recorded in ``processed_events``, which
says which are new (``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the dedup check and the
record in one), and on PostgreSQL its first locks taken in the same statement (one round trip
instead of three: the check, the locks, and the ids' insert among the last writes).

The locks must come after the ids: an id another transaction has inserted and not committed
makes the insert wait for it, and a transaction waiting there must hold no lock (the order of
``service_layer.locks``). In the statement the locks are taken by the second branch of a
``UNION ALL``, which runs after the first has read every id the insert returned, and which
counts them first (``done``) besides; they are taken in the arrays' order, as ``unnest`` gives
them. The lock calls sit in a subquery whose output nothing reads: PostgreSQL keeps an output
with a volatile function (it never prunes those), so each is called.

The same statement turns sequential scans off for the rest of the transaction (``set_config(...,
true)``: a ``SET LOCAL`` without a round trip of its own). Every read of a batch is a look-up of
its keys (a few hundred NIPs, task ids) in tables of the whole roster; at those sizes the planner
costs a walk of the table (20,000 rows examined for 200 ASN) below 200 index probes, with its
statistics taken or not (the months' and memberships' read of a 1,000-event poll at 20,000 ASN:
6.5 ms a chunk with the statistics taken, 11.7 without, 1.1-1.5 ms probing; ``test_batch_plans``).
A table with no index for a read is still read whole (the setting only makes that the last choice).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from kinerja.messaging.processed_claims import claim_new_ids
from penilaian.adapters.bulk_writes import postgres_insert

_LOCKS = (" UNION ALL SELECT NULL FROM (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k.c, k.n) FROM "
          "(SELECT count(*) FROM claimed) AS done, unnest(CAST(%(lock_c)s AS integer[]), "
          "CAST(%(lock_n)s AS integer[])) AS k(c, n)) AS locked) AS taken")
# the last branch: run after the others (an Append runs its branches in order), a row never
_PROBES = " UNION ALL SELECT NULL WHERE set_config('enable_seqscan', 'off', true) IS NULL"


def claim_and_lock(session: Session, table: Table, rows: list[dict[str, Any]], locks: list[tuple[int, int]]) -> set[str]:
    """Record ``rows`` (distinct ids, in the order their row locks are to be taken) and return the
    ids among them not recorded before; on PostgreSQL then take the advisory ``locks`` ((class,
    number) pairs, in order) in the same statement. Elsewhere ``locks`` must be empty (SQLite
    serialises writers itself)."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        assert not locks, "advisory locks are PostgreSQL's"
        return claim_new_ids(session, table, rows)
    if not rows and not locks:
        return set()
    params: dict[str, Any] = {"lock_c": [c for c, _ in locks], "lock_n": [n for _, n in locks]} if locks else {}
    if rows:
        insert, bound = postgres_insert(table, dialect, rows, prefix="p")
        params.update(bound)
        claimed = f"{insert} ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
    else:  # no ids (the API's transactions): the locks alone, the same statement's shape
        claimed = "SELECT CAST(NULL AS varchar) AS event_id WHERE false"
    sql = f"WITH claimed AS ({claimed}) SELECT event_id FROM claimed" + (_LOCKS if locks else "") + _PROBES
    # .all(): the rows fetched in one call (iterating the result fetched one a row, a call each)
    return {r[0] for r in session.connection().exec_driver_sql(sql, params).all() if r[0] is not None}
