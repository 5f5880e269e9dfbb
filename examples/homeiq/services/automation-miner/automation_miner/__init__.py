"""Mines 'when X happens, Y follows' patterns from the event history."""
