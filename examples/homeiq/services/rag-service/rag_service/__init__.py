"""Retrieval over the household's documents (manuals, notes, automations) for the assistant."""
