"""SpanExporter that writes genuine OTLP/JSON lines (one ExportTraceServiceRequest per line).

Encoding: the official OTLP encoder (opentelemetry.exporter.otlp.proto.common.trace_encoder.encode_spans,
the same code the OTLP/HTTP and gRPC exporters use) builds the protobuf ExportTraceServiceRequest;
google.protobuf.json_format turns it into proto3 JSON (lowerCamelCase keys, 64-bit ints as decimal
strings, enums as integers).  The only change made afterwards is the one the OTLP/JSON spec requires
on top of proto3 JSON: traceId / spanId / parentSpanId (and link ids) are hex, not base64.
Everything exported in one export() call goes on one line (use SimpleSpanProcessor for one span
per line, or BatchSpanProcessor + force_flush for one line per batch).
"""
import base64
import json

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def _hexify(o):
    if isinstance(o, dict):
        return {k: (base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str) else _hexify(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [_hexify(v) for v in o]
    return o


class OtlpJsonFileExporter(SpanExporter):
    def __init__(self, path):
        self.path = path
        self.fh = open(path, "w")

    def export(self, spans):
        req = encode_spans(spans)
        d = MessageToDict(req, use_integers_for_enums=True)
        self.fh.write(json.dumps(_hexify(d), separators=(",", ":")) + "\n")
        self.fh.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        self.fh.close()


def make_provider(path, service_name):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OtlpJsonFileExporter(path)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter
