"""Intent recognition with model fallbacks."""
