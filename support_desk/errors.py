"""One exception type for application errors; the API maps it to DESIGN §5's error format."""


class ApplicationError(Exception):
    status = 400
    type = "invalid_request_error"
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        details: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.param = param
        if code:
            self.code = code
        self.details = details or ({param: [message]} if param else {})


class InvalidRequest(ApplicationError):
    pass


class NotFound(ApplicationError):
    status = 404
    type = "not_found"
    code = "not_found"


class Conflict(ApplicationError):
    status = 409
    type = "conflict"
    code = "conflict"


class PreconditionFailed(ApplicationError):
    status = 412
    type = "precondition_failed"
    code = "version_mismatch"
