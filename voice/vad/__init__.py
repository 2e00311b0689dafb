"""Voice activity detection, end-of-turn detection and barge-in, over 20 ms frames at 8 or 16 kHz."""
from voice.vad.bargein import BargeInDetector, BargeInSettings
from voice.vad.detector import Vad, VadSettings, level_dbfs
from voice.vad.endpointer import Endpointer, EndpointerSettings, EndpointEvent, EventKind, State

__all__ = ["BargeInDetector", "BargeInSettings", "Endpointer", "EndpointerSettings", "EndpointEvent", "EventKind",
           "State", "Vad", "VadSettings", "level_dbfs"]
