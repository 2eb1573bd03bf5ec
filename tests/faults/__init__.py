"""The fault campaign: real cloud and desk processes, seeded fault schedules, a checker."""
