"""The pure rule engine: rule-file model, loader, compiler, evaluator, templating.

Nothing here performs network or database I/O, and time is always a parameter.
"""
