"""CodeConnections (and its former name, codestar-connections): connections a pipeline's source and the git
server check."""

from standin.connections import api  # noqa: F401 - registers handlers
