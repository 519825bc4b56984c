"""Use cases: functions that take a SQLAlchemy session and return plain objects.

Views and CLI commands call these; nothing here touches the Flask request.
"""
