"""Shared by the tests and the benchmarks, installed by ``make install`` from ``tests/support``:
``notifikasi`` and ``penilaian`` (test kits around each service's own code), ``sse`` (an asyncio
SSE client for thousands of streams) and ``synthetic`` (a seeded month of events for one agency).
Production code never imports it."""
