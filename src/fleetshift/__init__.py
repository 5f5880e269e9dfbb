"""fleetshift: upgrade a fleet of Python services across breaking library releases, verified."""

__version__ = "0.1.0"
