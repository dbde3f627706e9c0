"""X (formerly Twitter) through API v2 with OAuth 2.0 + PKCE (platform-apis section 1)."""
