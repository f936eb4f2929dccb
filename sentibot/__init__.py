"""sentibot: how people feel about a topic on social media, reported in Slack."""

__version__ = "0.1.0"
