"""The MCP server: digipersona as tools for AI assistants (see server.py)."""
