"""The web console: pages for people."""
