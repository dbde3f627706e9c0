"""The demo workspace (``digipersona demo``): realistic content that never reaches a platform."""
