"""The autopilot: generation rules and event triggers that draft posts without anyone asking."""
