from activities.mission import MissionActivities

__all__ = ["MissionActivities"]
