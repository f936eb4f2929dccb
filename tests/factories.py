"""Rows the database tests need, built through the same queries the service uses."""

from sqlalchemy.orm import Session

from sentibot.storage import jobs as job_store
from sentibot.storage.models import Job
from sentibot.storage.workspaces import ensure_workspace


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
        "window_s": 86_400,
    }
    values.update(fields)
    ensure_workspace(session, values["team_id"])
    job_id = job_store.admit_job(session, **values, per_user_per_minute=1_000_000)
    return job_store.get_job(session, job_id)
