"""Rule files: what a rule file may contain, and how a rules directory becomes a RuleSet.

- loader.py: `load_rules` (pure, every problem at once) and `load_rules_dir`;
- rules_dir.py: which files of a directory are rule files, read (ConfigMaps included);
- source.py: YAML parsed with the line and column of every value;
- schema.py, value_types.py: the format as pydantic models, shape and types only;
- validation_messages.py: pydantic's errors in words a rule author acts on;
- merging.py, compiler.py: the files merged, checked across files, compiled to the model;
- lint.py: warnings about rules that load but probably do not do what was meant;
- json_schema.py: the format as a JSON Schema, for editors.
"""
