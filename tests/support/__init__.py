"""Everything the test suite shares that is not a fixture (fixtures are in the conftests).
A test imports from here, never from another test module (tests/test_suite_layout.py).

Processes:   redis_server (the one redis-server launcher; bench/ uses it too),
             redis_cluster, store_backend, service and served_nudge (`nudge serve`),
             nudge_cli (`nudge ...`), tcp_proxy and body_limit_proxy, http_load
Rules:       rule_sets and the files under rules/, evaluation, configmap
The API:     api_calls, usage, metrics_text, redis_commands
Time:        clock, polling, sdk_timing
The run:     skip_summary
"""
