"""Kafka plumbing: topic names, producer factory, outbox + relay, the idempotent consumer loop."""
