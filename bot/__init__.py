"""The Slack side: Bolt app factory, command grammar, Block Kit views, posting to Slack."""
