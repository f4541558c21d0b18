"""The pure rule engine; this module is its public face, all that outside code imports.

Nothing in the engine performs network or database I/O, and time is always a
parameter. Inside:

- vocabulary.py: the words of the domain (styles, windows, signal and event types...);
- rule_files/: what a rule file may contain, and how a rules directory becomes a RuleSet;
- model/: the compiled rule set and its evaluation (`evaluate`, the one entry point);
- rule_tests/: YAML cases that say what a user should get, run on `evaluate`;
- expressions/: the language of `when:` conditions;
- durations.py, problems.py: durations as authors write them; located problems.

The services, the store, the API, the CLI and bench/ import from `app.engine` only
(tests/unit/test_engine_face.py holds them to it); the engine's own unit tests may
reach inside.
"""

# No `from __future__ import annotations`: the module annotates nothing, and its
# namespace holds the exports alone (tests/unit/test_engine_face.py compares them).
from app.engine.durations import format_duration, parse_duration
from app.engine.model.decisions import Decision, holding_triggers, resolve_plan
from app.engine.model.describe import describe_rules
from app.engine.model.evaluation import Evaluation, RenderedPrompt, evaluate
from app.engine.model.rule_set import RuleSet, Trigger
from app.engine.model.state import AccountState, Impression
from app.engine.model.templating import format_number, json_number
from app.engine.model.windows import window_end, window_id
from app.engine.problems import Problem, report_problems
from app.engine.rule_files.json_schema import rule_file_schema_json
from app.engine.rule_files.loader import LoadResult, load_rules, load_rules_dir
from app.engine.rule_files.rules_dir import CONFIGMAP_DATA, TESTS_FOLDER, is_rule_file_name
from app.engine.rule_tests.json_schema import rule_tests_schema_json
from app.engine.rule_tests.parsing import RuleTestFile, parse_rule_tests, read_rule_test_files
from app.engine.rule_tests.running import CaseResult, run_case, uncovered_triggers
from app.engine.vocabulary import (
    ANY_STYLE,
    COUNTER_WINDOWS,
    PROMPT_EVENT_TYPES,
    PROMPT_STYLES,
    PROMPT_TEXT_FIELDS,
    SIGNAL_TYPES,
    USAGE_OPS,
    CapKey,
    CapScope,
    CounterWindow,
    MetricType,
    Outcome,
    PromptEventType,
    PromptStyle,
    SignalType,
    TriggerMode,
    UsageOp,
)

__all__ = [
    "ANY_STYLE",
    "CONFIGMAP_DATA",
    "COUNTER_WINDOWS",
    "PROMPT_EVENT_TYPES",
    "PROMPT_STYLES",
    "PROMPT_TEXT_FIELDS",
    "SIGNAL_TYPES",
    "TESTS_FOLDER",
    "USAGE_OPS",
    "AccountState",
    "CapKey",
    "CapScope",
    "CaseResult",
    "CounterWindow",
    "Decision",
    "Evaluation",
    "Impression",
    "LoadResult",
    "MetricType",
    "Outcome",
    "Problem",
    "PromptEventType",
    "PromptStyle",
    "RenderedPrompt",
    "RuleSet",
    "RuleTestFile",
    "SignalType",
    "Trigger",
    "TriggerMode",
    "UsageOp",
    "describe_rules",
    "evaluate",
    "format_duration",
    "format_number",
    "holding_triggers",
    "is_rule_file_name",
    "json_number",
    "load_rules",
    "load_rules_dir",
    "parse_duration",
    "parse_rule_tests",
    "read_rule_test_files",
    "report_problems",
    "resolve_plan",
    "rule_file_schema_json",
    "rule_tests_schema_json",
    "run_case",
    "uncovered_triggers",
    "window_end",
    "window_id",
]
