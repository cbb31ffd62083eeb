"""One exception tree; the CLI maps each class to an exit code and a one-line message."""

from __future__ import annotations


class GitmlError(Exception):
    """A user-facing failure: `message` is one line naming the cause."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(GitmlError):
    exit_code = 2


class NotAWorkspaceError(GitmlError):
    pass


class NotAGitRepoError(GitmlError):
    pass


class ConfigError(GitmlError):
    pass


class PathError(GitmlError):
    """A path that escapes the workspace, is reserved, missing, or otherwise unusable."""


class FormatError(GitmlError):
    """A malformed pointer, manifest, lock or config file."""


class IntegrityError(GitmlError):
    """Bytes whose hash does not match the id they were stored or fetched under."""


class ObjectNotFoundError(GitmlError):
    pass


class DirtyWorkspaceError(GitmlError):
    """An operation would overwrite uncommitted changes to tracked data."""


class LockedError(GitmlError):
    pass


class InterruptedCheckoutError(GitmlError):
    """A checkout was killed half-way: some files it was writing may be incomplete."""


class RemoteError(GitmlError):
    pass


class GitError(GitmlError):
    pass


class PipelineError(GitmlError):
    """A pipeline that cannot run: a cycle, clashing outputs, an unknown stage, a missing dep."""


class StageFailedError(PipelineError):
    """A stage's command exited non-zero (or could not start)."""


class RemoteNotConfiguredError(RemoteError):
    """No remote given and no default, or a name that is not configured."""


class RemoteUnreachableError(RemoteError):
    """Connection refused, DNS failure, timeout."""


class RemoteAuthError(RemoteError):
    """Missing or rejected credentials."""


class RemotePermissionError(RemoteError):
    """Credentials accepted but the operation is not allowed."""


class RemoteNotFoundError(RemoteError):
    """The bucket or root folder does not exist."""


class RemoteFormatError(RemoteError):
    """A remote written in a layout this gitml does not know."""


class ExecutorError(PipelineError):
    """An executor (worker process, Dask cluster) could not run a stage or cannot be reached."""


class DataFormatError(FormatError):
    """A file that cannot be read as a table: unknown kind, corrupt, empty."""


class SchemaError(FormatError):
    """A schema file that is not valid YAML or not a gitml schema."""


class DataCheckFailedError(GitmlError):
    """Data that breaks its schema, or drifted past a threshold in a gate."""
