"""Configuration: one settings object read from the environment (and `.env`)."""

from sentibot.config.settings import MissingSetting, Settings, get_settings

__all__ = ["MissingSetting", "Settings", "get_settings"]
