"""perflab.sim: the content pipeline of the guide, simulated on a virtual clock."""

from __future__ import annotations

from perflab.sim.loop import VirtualClock, VirtualTimeLoop, in_running_loop, run_virtual

__all__ = ["VirtualClock", "VirtualTimeLoop", "in_running_loop", "run_virtual"]
