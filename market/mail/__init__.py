"""Outgoing mail: queued in the transaction that causes it, sent by the background worker."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The worker sends queued mail whenever it wakes (and every few seconds), when MAIL_URL is set."""
    from market.mail.service import send_due
    from market.outbox.worker import Job, register_job

    register_job(app, Job("mail", every=10.0, run=send_due, on_wake=True))
