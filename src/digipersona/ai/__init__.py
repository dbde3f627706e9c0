"""A workspace's own AI provider (Settings -> AI), its usage and its monthly budget."""
