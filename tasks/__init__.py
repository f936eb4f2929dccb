"""Celery: the app, queues, Beat schedule, and thin tasks over the domain functions."""
