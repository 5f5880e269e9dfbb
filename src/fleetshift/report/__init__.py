"""Reports: JSON records and Markdown pages made from the stages' records, never from their internals."""

from fleetshift.report.planning import write_plan_reports

__all__ = ["write_plan_reports"]
