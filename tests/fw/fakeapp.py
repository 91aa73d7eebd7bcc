# A stand-in for firmware/app.App with what the console uses; portable, so the
# console tests run under CPython and on the host MicroPython.
from app import HeapStats
from core.controller import Controller
from core.metering import CopMeter


class FakeApp:
    version = "9.9.9"
    board_name = "test"

    def __init__(self):
        self.controller = Controller()
        self.latched_alarms = 0
        self.pin = ""
        self.saved = None
        self.rebooted = False
        self.heap = HeapStats()
        self.meter = CopMeter()

    def uptime_s(self):
        return 42

    def overruns(self):
        return 0

    def skipped(self):
        return 0

    def config_changed(self):
        pass

    def save_config(self):
        self.saved = self.controller.config

    def load_config(self):
        pass

    def request_reboot(self):
        self.rebooted = True

    def interrupt(self):
        raise KeyboardInterrupt
