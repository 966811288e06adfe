"""A WSGI backend using the README's Python middleware (sightline_middleware.py) with the
official OpenTelemetry Python SDK, exporting to Sightline; it calls itself twice, as a browser
would, inside an incident window and outside one, then exits.

    python incident_backend.py http://127.0.0.1:4318 SESSION_ID

Prints {"inside": TRACE_ID, "outside": TRACE_ID}: the trace each request carried.
"""

import json
import logging
import secrets
import sys
import threading
import time
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

from opentelemetry import trace
from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from sightline_middleware import SightlineFilter, SightlineMiddleware

base, session = sys.argv[1], sys.argv[2]
resource = Resource.create({"service.name": "py-checkout"})
traces = TracerProvider(resource=resource)
traces.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
trace.set_tracer_provider(traces)
tracer = trace.get_tracer("py-checkout")
logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")))
handler = LoggingHandler(level=logging.DEBUG, logger_provider=logs)
handler.addFilter(SightlineFilter())
log = logging.getLogger("py-checkout")
log.setLevel(logging.DEBUG)
log.propagate = False
log.addHandler(handler)


def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
    with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER):
        log.debug("checkout request", extra={"http.request.body": body})
        log.warning("payment declined")
    start_response("402 Payment Required", [("Content-Type", "application/json")])
    return [b'{"error":"card_declined"}']


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, SightlineMiddleware(app), handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_port}/checkout"


def call(until):
    trace_id = secrets.token_hex(16)
    headers = {
        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        "X-Session-ID": session,
        "Content-Type": "application/json",
    }
    if until:
        headers["X-Incident-Mode-Until"] = str(until)
    req = urllib.request.Request(url, data=b'{"cardNumber":"4111","qty":1}', headers=headers)
    try:
        urllib.request.urlopen(req)
    except urllib.error.HTTPError as e:
        assert e.code == 402, e.code
    return trace_id


now = int(time.time() * 1000)
result = {"inside": call(now + 60_000), "outside": call(0)}
traces.force_flush()
logs.force_flush()
server.shutdown()
print(json.dumps(result))
