import logging
import sys


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever sys.stderr is at the time of the record.

    Test runners and process managers swap sys.stderr; a handler bound at start-up would
    keep writing to a closed stream.
    """

    def __init__(self):
        super().__init__(stream=sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass
