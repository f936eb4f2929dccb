"""Developer tooling shared by the tests and `make demo`: local stand-ins for Slack, X and
Reddit (real HTTP servers on 127.0.0.1 speaking each API's wire format), the demo corpus and
the console."""
