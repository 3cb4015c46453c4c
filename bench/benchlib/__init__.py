"""What the benchmarks under bench/ share (each script imports it as ``benchlib``: Python puts the
script's folder on the path). The machine and its load (``machine``), percentiles and medians
(``figures``), results and BENCHMARKS.md (``results``), a broker and PostgreSQL of their own
(``servers``); the whole system started with a roster (``system``), row counts (``db``), consumer
lag (``lag``), stream clients in processes of their own (``streams``) and open-loop punch senders
(``senders``), the Kafka ceiling's tables (``ceiling``), the wait for an ingest run's day
summaries (``day_summaries``) and the logs kept when a run stalls (``stall_logs``), an ingest run's
clients (``ingest_clients``) and its Markdown (``ingest_report``); penilaian's
consumer processes (``penilaian_consumers``), its group's lag (``penilaian_lag``) and the drain
window's stream (``drain_stream``)."""
from benchlib.figures import fmt_median, fmt_spread, pct, pcts_ms, spread
from benchlib.machine import load, machine, machine_line, now_utc
from benchlib.results import ROOT, RESULTS, append_markdown, read_result, write_result
from benchlib.servers import fresh_database, own_broker, own_postgres

__all__ = ["ROOT", "RESULTS", "append_markdown", "fmt_median", "fmt_spread", "fresh_database", "load", "machine",
           "machine_line", "now_utc", "own_broker", "own_postgres", "pct", "pcts_ms", "read_result", "spread",
           "write_result"]
