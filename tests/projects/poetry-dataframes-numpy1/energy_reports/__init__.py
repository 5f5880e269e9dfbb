"""Daily energy reports."""
