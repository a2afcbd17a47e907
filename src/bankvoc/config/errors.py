"""The errors of versioned configuration."""

from __future__ import annotations

from bankvoc.core.errors import Conflict, Invalid, NotFound


class UnknownKind(NotFound):
    code = "config_kind_not_found"


class VersionNotFound(NotFound):
    code = "config_version_not_found"


class ConfigConflict(Conflict):
    """Someone else saved or activated a version of the same kind at the same moment."""

    code = "config_conflict"


class NothingChanged(Invalid):
    code = "config_unchanged"
