"""Kinerja shared library: event contracts and the plumbing every service installs.

It holds contracts (event schemas, topic names, token claims) and plumbing (Kafka, outbox,
database, HTTP helpers), never business rules.
"""
