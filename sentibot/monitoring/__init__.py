"""The monitoring rules: watch runs, source health, alert rules and checks, digests, local-time
schedules and the analysis steps. Plain functions over a session that return plain data."""
