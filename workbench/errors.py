"""Errors a user can act on.

Anything raised as a `WorkbenchError` is printed without a traceback and exits 2: the
message itself must say what to do next.
"""


class WorkbenchError(Exception):
    """A usage or input problem the user can fix (exit code 2)."""

    exit_code = 2


class CheckFailed(WorkbenchError):
    """A gate or check failed (exit code 1)."""

    exit_code = 1
