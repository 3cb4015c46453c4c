"""Shared by the tests and the benchmarks, installed by ``make install`` from ``tests/support``:
``kehadiran``, ``notifikasi`` and ``penilaian`` (test kits around each service's own code),
``sse`` (an asyncio SSE client for thousands of streams), ``sse_journey`` (a threaded SSE reader
for the journeys across services) and ``synthetic`` (a seeded month of events for one agency);
``applied_sink`` (a consumer handler that records what it applied),
``punch_requests`` (punch uploads served to kehadiran's app and the statements SQLite runs for
them) and ``polled_consumer`` (penilaian's consumer fed polls in the test's thread, its statements
counted). Production code never imports it."""
