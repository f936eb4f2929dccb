"""Rows the database tests need, built through the same queries the service uses."""

from sqlalchemy.orm import Session

from sentibot.storage import jobs as job_store
from sentibot.storage.models import Job


def make_job(session: Session, team: str = "T1", topic: str = "acme", **fields: object) -> Job:
    values: dict = {
        "team_id": team,
        "topic": topic,
        "sources": ["x"],
        "channel_id": "C1",
        "user_id": "U1",
        "response_url": None,
        "post_limit": 10,
        "model": "vader",
    }
    values.update(fields)
    return job_store.create_job(session, **values)
