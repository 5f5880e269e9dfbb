"""Downsamples raw HomeIQ history into hourly rollups and purges what is past retention."""
