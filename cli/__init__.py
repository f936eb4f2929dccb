"""The composition root: the `sentibot` command wires the core, the adapters and the servers
(README, Layout). It stands above every other package and nothing imports it."""
