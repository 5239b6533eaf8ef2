"""The upload size limit, enforced while the request body is read.

`UploadLimitHandler` comes first in FILE_UPLOAD_HANDLERS: once a file field passes
IMPORT_MAX_BYTES it stops the upload (Django reads and discards the rest of the body, in
chunks — never holding it) and marks the request, so that the page can say why the file is
missing instead of "this field is required".
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from kam.core.conf import config
from kam.imports import guard


class UploadLimitHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = config().IMPORT_MAX_BYTES
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_refused = max(self.received, _content_length(self.request))
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def refused_message(request) -> str | None:
    """The message for an upload the handler stopped, or None."""
    size = getattr(request, "upload_refused", None)
    if size is None:
        return None
    try:
        guard.check_size(size)
    except guard.FileProblem as exc:
        return exc.message
    return None
