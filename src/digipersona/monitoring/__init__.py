"""Watching an installation: gauges read from the database at scrape time, and the doctor."""
