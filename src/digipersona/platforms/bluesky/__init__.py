"""Bluesky (atproto): app-password sessions, posts with facets, images, threads."""
