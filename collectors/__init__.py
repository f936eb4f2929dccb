"""Collectors: one module per source behind the `Collector` protocol, plus the shared `Post`."""
