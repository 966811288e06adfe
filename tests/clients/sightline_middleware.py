"""Incident mode for a Python backend (the README's snippet, run by Sightline's tests).

A WSGI middleware (Flask: `app.wsgi_app = SightlineMiddleware(app.wsgi_app)`; Django: wrap the
application in wsgi.py) keeps what the browser sent in context variables: `X-Session-ID`, the
`traceparent` (attached as the OpenTelemetry context, so spans started in the request continue
the browser's trace) and `X-Incident-Mode-Until`. `SightlineFilter`, on the OpenTelemetry
`LoggingHandler`, lets DEBUG records through only while that window is open and adds
`session.id` and `incident.mode=true` to each record; the handler exports them as attributes,
with the active span's trace and span ids.
"""

import contextvars
import logging
import time

from opentelemetry import context, propagate

session_id = contextvars.ContextVar("sightline_session_id", default=None)
incident_until = contextvars.ContextVar("sightline_incident_until", default=0)


def incident_mode():
    """Whether the current request is inside an incident window."""
    return incident_until.get() > time.time() * 1000


class SightlineMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        try:
            until = int(headers.get("x-incident-mode-until", "0"))
        except ValueError:
            until = 0
        session = session_id.set(headers.get("x-session-id"))
        window = incident_until.set(until)
        parent = context.attach(propagate.extract(headers))
        try:
            return self.app(environ, start_response)
        finally:
            context.detach(parent)
            incident_until.reset(window)
            session_id.reset(session)


class SightlineFilter(logging.Filter):
    """DEBUG only inside a window; the session and the window's mark on every record."""

    def filter(self, record):
        if record.levelno < logging.INFO and not incident_mode():
            return False
        if session_id.get():
            setattr(record, "session.id", session_id.get())
        if incident_mode():
            setattr(record, "incident.mode", True)
        return True
