"""Turns the household calendar into occupancy hints for the automations."""
