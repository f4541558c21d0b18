"""Adapters to storage: Redis counters and the SQL database. Driver errors stop here."""
