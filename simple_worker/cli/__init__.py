"""Command-line programs: the only place that prints, exits, reads configuration from the
environment or configures logging."""
