"""What penilaian does with events and its own commands, by the names its callers have long used.

The work lives in modules of one idea each:

- ``batch``: one transaction's intake (locks up front, rows read in bulk: ``batch_rows``,
  ``batch_days``, ``batch_roster``; what the events name: ``batch_keys``); ``touched``: what they made stale;
- ``locks``: the advisory locks and the one order they are taken in;
- ``intake``: ``apply_event`` / ``apply_batch`` / ``store_event`` (facts stored, then recomputed);
- ``facts``: each fact's rule of which statement wins;
- ``recompute``: scores from the stored facts (``Policies``, ``recompute_many``, ``score_of``);
- ``score_rows``: a score as stored (detail) and published (``score.updated``);
- ``commands``: the facts penilaian records itself (ratings, training, dialogs, policy);
- ``adapters.fact_queries``: the queries of an ASN's facts.
"""
from __future__ import annotations

from kinerja.events.tugas import FEEDBACK_POSTED, INNOVATION_APPROVED, SKP_APPROVED  # noqa: F401
from penilaian.adapters.fact_queries import load_facts, load_facts_many, task_fact  # noqa: F401
from penilaian.service_layer.batch import Batch  # noqa: F401
from penilaian.service_layer.batch_keys import TASK_TYPES  # noqa: F401
from penilaian.service_layer.touched import Touched  # noqa: F401
from penilaian.service_layer.commands import (  # noqa: F401
    agency_of,
    rate_organisation,
    record_dialog,
    record_rating,
    record_training,
    set_policy,
)
from penilaian.service_layer.facts import (  # noqa: F401
    apply_roster,
    store_day_fact,
    store_dialog,
    store_feedback,
    store_innovation,
    store_organisation_rating,
    store_policy,
    store_rating,
    store_skp,
    store_task_fact,
    store_training,
)
from penilaian.service_layer.intake import apply_batch, apply_event, store_event  # noqa: F401
from penilaian.service_layer.recompute import (  # noqa: F401
    RECOMPUTE_CHUNK,
    Policies,
    policy_agency,
    rating_for,
    recompute,
    recompute_many,
    score_of,
)
from penilaian.service_layer.score_rows import (  # noqa: F401
    SOURCE,
    VALUE_FIELDS,
    as_one_change,
    score_detail,
    score_event,
    write_score,
)
from penilaian.service_layer.times import as_utc, local_date, utcnow  # noqa: F401
