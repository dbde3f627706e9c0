"""Domain-free helpers: crypto, security, time, logging, rate limiting, database types."""
