"""Helpers the test suite shares: real redis-server processes, a clock, an app client."""
