"""Bolt listeners, one module per capability, each with `register(app, ...)`."""
