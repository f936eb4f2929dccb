"""Pure Block Kit builders: domain objects in, lists of block dicts out."""
