# SPDX-License-Identifier: MIT
from skyfeed.client import Observation, SkyfeedClient, SkyfeedError

__all__ = ["Observation", "SkyfeedClient", "SkyfeedError"]
