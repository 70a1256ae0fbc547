"""The embedded stack (`sealed dev`): real servers on one machine, supervised as
child processes. Supervision only: what OpenBao holds is provisioned by
sealed.identity.bootstrap, the same code production runs."""

from sealed.devstack.children import StackError
from sealed.devstack.info import StackInfo, find_running
from sealed.devstack.ports import Ports, free_ports
from sealed.devstack.stack import DevStack

__all__ = ["DevStack", "Ports", "StackError", "StackInfo", "find_running", "free_ports"]
