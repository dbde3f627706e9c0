"""digipersona: a self-hosted, multi-persona social media autopilot."""

__version__ = "0.1.0"
