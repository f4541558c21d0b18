"""The compiled rule set and its evaluation: what the request path runs, with no trace of YAML.

- rule_set.py: RuleSet and its parts (metrics, plans, triggers, caps), compiled once;
- state.py: AccountState, the snapshot of one account and user the store reads;
- evaluation.py: `evaluate`, the one entry point: every trigger's decision, and the
  prompts shown, rendered;
- decisions.py: the steps of the rule format that decide each trigger;
- reasons.py: each decision in words, for explain and rule tests;
- templating.py: prompt texts with {placeholders}, and numbers as people write them;
- windows.py: the calendar windows of counters;
- describe.py: a rule set as plain data, for GET /v1/rules.
"""
