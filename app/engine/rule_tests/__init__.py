"""Rule tests: YAML cases under a rules directory's tests/ that say what a user should get.

- schema.py: what a rule-test file may contain; json_schema.py: the same, for editors;
- parsing.py: a test file read into cases, every problem located;
- checks.py: every name and time a case uses, checked against the rule set;
- running.py: each case run through the engine's `evaluate`, and its result;
- diff.py: how an expectation and the answer differ, for a terminal.
"""
