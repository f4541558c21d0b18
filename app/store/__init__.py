"""Adapters to storage: the Redis store, by key family, and the SQL database. Driver errors
stop here."""
