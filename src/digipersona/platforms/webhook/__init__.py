"""The webhook target: signed JSON deliveries to a URL the user controls."""
