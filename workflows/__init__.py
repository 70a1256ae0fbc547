from sealed.workflows.mission import MissionWorkflow

__all__ = ["MissionWorkflow"]
