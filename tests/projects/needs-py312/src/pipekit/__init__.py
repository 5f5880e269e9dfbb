from pipekit.pipeline import Pipeline, Stage, Transient, first_ok

__all__ = ["Pipeline", "Stage", "Transient", "first_ok"]
