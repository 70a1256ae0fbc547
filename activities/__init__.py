from sealed.activities.mission import MissionActivities

__all__ = ["MissionActivities"]
