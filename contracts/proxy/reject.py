"""``--reject-invalid``: a request that breaks the spec is answered here, in the API's own error shape,
and never reaches (nor costs money at) the upstream."""

from __future__ import annotations

from apitwin.contracts.proxy.findings import Finding
from apitwin.mockserver.errors import (
    INVALID_REQUEST,
    NOT_FOUND,
    ErrorAnswer,
    declared_error,
    error_answer,
    validation_status,
)
from apitwin.mockserver.operations import CompiledApi, Operation
from apitwin.mockserver.violations import Violation


def rejection(api: CompiledApi, operation: Operation | None, path: str, findings: list[Finding]) -> ErrorAnswer:
    """404 for an undocumented operation (405 when only the method is wrong), 415 for a content type the
    operation does not take, else the status the operation declares for a bad request (400, else 422)."""
    status = _status(operation, findings)
    violations = [
        Violation(operation.operation_id if operation else "", f.where, f.pointer, f.expected, f.received, f.message)
        for f in findings
    ]
    message = "; ".join(finding.message for finding in findings[:3])
    kind = NOT_FOUND if status == 404 else INVALID_REQUEST
    return error_answer(
        api, declared_error(api, operation, status), status, message, path=path, violations=violations, kind=kind
    )


def _status(operation: Operation | None, findings: list[Finding]) -> int:
    if operation is None:
        return 405 if any(" is not declared on " in finding.message for finding in findings) else 404
    if any(finding.check == "request_content_type" for finding in findings):
        return 415
    return validation_status(operation)
