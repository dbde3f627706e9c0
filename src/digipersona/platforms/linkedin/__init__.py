"""LinkedIn: personal-profile posting through the versioned REST API (platform-apis section 3)."""
