"""Sends one trace, one correlated log record and three metrics through the official
OpenTelemetry Python SDK and its OTLP/HTTP JSON exporters.

    python export.py http://127.0.0.1:4318     send to a running Sightline
    python export.py --capture DIR             record the exact request bodies as fixtures
"""

import json
import logging
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

START_NS = 1_767_323_045_678_000_000


def send(base):
    resource = Resource.create(
        {"service.name": "py-orders", "service.version": "9.1", "rum.sessionId": "py-session-1"}
    )

    traces = TracerProvider(resource=resource)
    traces.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    tracer = traces.get_tracer("py-orders-tests", "2.0.0")

    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs"))
    )
    log = logging.getLogger("py-orders")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logs))

    with tracer.start_as_current_span(
        "POST /orders",
        kind=SpanKind.SERVER,
        start_time=START_NS,
        end_on_exit=False,
        attributes={
            "http.request.method": "POST",
            "order.items": 3,
            "order.total": 99.5,
            "order.gift": True,
            "order.skus": ["sku-1", "sku-2"],
        },
    ) as server:
        server.add_event("order.validated", {"rule.count": 4}, timestamp=START_NS + 1_000_000)
        with tracer.start_as_current_span(
            "INSERT orders", kind=SpanKind.CLIENT, start_time=START_NS + 2_000_000,
            end_on_exit=False,
        ) as db:
            db.set_attribute("db.system.name", "sqlite")
            db.end(end_time=START_NS + 9_000_000)
        log.warning("order stored slowly", extra={"order.id": "o-77"})
        server.set_status(Status(StatusCode.OK))
        server.end(end_time=START_NS + 10_000_000)
        ids = {
            "traceId": format(server.get_span_context().trace_id, "032x"),
            "spanId": format(server.get_span_context().span_id, "016x"),
            "childSpanId": format(db.get_span_context().span_id, "016x"),
        }
    traces.shutdown()
    logs.shutdown()

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics"), export_interval_millis=60_000
    )
    meters = MeterProvider(resource=resource, metric_readers=[reader])
    meter = meters.get_meter("py-orders-metrics")
    meter.create_counter("orders.created").add(2, {"channel": "web"})
    hist = meter.create_histogram("order.value", unit="EUR")
    for v in (10.0, 99.5):
        hist.record(v)
    meter.create_up_down_counter("orders.open").add(-1)
    meters.shutdown()
    return ids


def capture(directory):
    os.makedirs(directory, exist_ok=True)
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append((self.path, self.headers.get("content-type", ""), body))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ids = send(f"http://127.0.0.1:{srv.server_address[1]}")
    srv.shutdown()
    counts = {}
    for path, ctype, body in seen:
        if not ctype.startswith("application/json"):
            raise SystemExit(f"unexpected content type {ctype}")
        signal = path.rsplit("/", 1)[-1]
        counts[signal] = counts.get(signal, 0) + 1
        with open(os.path.join(directory, f"py-{signal}-{counts[signal]}.json"), "wb") as f:
            f.write(body)
    with open(os.path.join(directory, "py-ids.json"), "w") as f:
        json.dump(ids, f, indent=2)
        f.write("\n")
    print(f"captured {len(seen)} requests into {directory}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--capture":
        capture(sys.argv[2])
    elif len(sys.argv) == 2:
        print(json.dumps(send(sys.argv[1].rstrip("/"))))
    else:
        raise SystemExit("usage: python export.py OTLP_HTTP_BASE | --capture DIR")
