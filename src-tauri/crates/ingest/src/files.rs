//! Files people import besides bundles: OTLP JSON lines as the OpenTelemetry Collector's file
//! exporter writes them (one `Export*ServiceRequest` per line; the whole file gzip- or
//! zstd-compressed, or the exporter's own length-prefixed zstd records), and rrweb event arrays
//! (one recorded session). What a file is comes from its content, not its name.

use std::io::Read;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use serde_json::{Map, Value};

use crate::content::Format;
use crate::error::{IngestError, Result};
use crate::otlp;

/// The most a file may inflate to: a day of a busy service's telemetry, and a bound on what a
/// compressed file can make Sightline hold.
pub const MAX_FILE_INFLATED: usize = 1024 * 1024 * 1024;

/// rrweb events stored per batch when a long recording is split (a recorder batch holds
/// seconds of events; this keeps each stored chunk small enough to seek in).
pub const EVENTS_PER_BATCH: usize = 5_000;

const GZIP: [u8; 2] = [0x1f, 0x8b];
const ZSTD: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What an importable file holds.
#[derive(Debug, Clone)]
pub enum Parsed {
    Otlp(OtlpFile),
    Rrweb(RrwebFile),
}

/// OTLP requests, one per line of the file, by signal.
#[derive(Debug, Clone, Default)]
pub struct OtlpFile {
    pub traces: Vec<ExportTraceServiceRequest>,
    pub logs: Vec<ExportLogsServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub lines: usize,
}

/// One session's rrweb events, with its recorder meta when the file has it.
#[derive(Debug, Clone)]
pub struct RrwebFile {
    pub session_id: String,
    pub events: Vec<Value>,
    pub meta: Map<String, Value>,
}

fn bad(file: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Decode {
        message: "importable file",
        format: "OTLP JSON lines or rrweb JSON",
        reason: format!("{file}: {}", reason.into()),
    }
}

fn read_capped(mut r: impl Read, what: &'static str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    r.by_ref()
        .take(MAX_FILE_INFLATED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::Decompress {
            encoding: what,
            reason: e.to_string(),
        })?;
    if out.len() > MAX_FILE_INFLATED {
        return Err(IngestError::TooLarge {
            limit: MAX_FILE_INFLATED,
        });
    }
    Ok(out)
}

/// The file's bytes, decompressed: gzip, zstd, or the Collector's length-prefixed zstd records
/// (each a 4-byte big-endian length and a zstd frame); anything else as it is.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.starts_with(&GZIP) {
        return read_capped(flate2::read::MultiGzDecoder::new(bytes), "gzip");
    }
    if bytes.starts_with(&ZSTD) {
        let decoder =
            zstd::stream::read::Decoder::new(bytes).map_err(|e| IngestError::Decompress {
                encoding: "zstd",
                reason: e.to_string(),
            })?;
        return read_capped(decoder, "zstd");
    }
    if bytes.len() >= 8 && bytes[4..8] == ZSTD {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (len, tail) = rest.split_at(4.min(rest.len()));
            let n = u32::from_be_bytes(len.try_into().map_err(|_| IngestError::Decompress {
                encoding: "zstd",
                reason: "a record is cut short".into(),
            })?) as usize;
            if tail.len() < n {
                return Err(IngestError::Decompress {
                    encoding: "zstd",
                    reason: "a record is cut short".into(),
                });
            }
            let (frame, next) = tail.split_at(n);
            let decoder =
                zstd::stream::read::Decoder::new(frame).map_err(|e| IngestError::Decompress {
                    encoding: "zstd",
                    reason: e.to_string(),
                })?;
            let mut record = read_capped(decoder, "zstd")?;
            if out.len() + record.len() + 1 > MAX_FILE_INFLATED {
                return Err(IngestError::TooLarge {
                    limit: MAX_FILE_INFLATED,
                });
            }
            out.append(&mut record);
            out.push(b'\n');
            rest = next;
        }
        return Ok(out);
    }
    Ok(bytes.to_vec())
}

/// A stable session id for an rrweb file that does not name one: its name, and a digest of
/// its content (the same file is the same session; two files with one name are not).
fn session_id_for(file: &str, bytes: &[u8]) -> String {
    let stem: String = file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file)
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect();
    let digest = xxhash_rust::xxh3::xxh3_64(bytes);
    format!(
        "{}-{digest:016x}",
        if stem.is_empty() { "rrweb" } else { &stem }
    )
}

/// Reads an importable file (already decompressed): OTLP JSON lines, or rrweb events (a JSON
/// array, or an object with `events` and optionally `sessionId` and `meta`).
pub fn parse(bytes: &[u8], file: &str) -> Result<Parsed> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad(file, "it is not UTF-8 text"))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let events: Vec<Value> = serde_json::from_str(trimmed)
            .map_err(|e| bad(file, format!("not a JSON array of rrweb events: {e}")))?;
        return Ok(Parsed::Rrweb(RrwebFile {
            session_id: session_id_for(file, bytes),
            events,
            meta: Map::new(),
        }));
    }
    if !trimmed.starts_with('{') {
        return Err(bad(
            file,
            "expected OTLP JSON lines (the Collector's file exporter) or rrweb events (JSON)",
        ));
    }
    // One JSON document (an rrweb recording as an object) or one per line (OTLP).
    let first_line = trimmed.lines().next().unwrap_or("");
    let first: Option<Value> = serde_json::from_str(first_line).ok();
    let is_otlp = |v: &Value| {
        ["resourceSpans", "resourceLogs", "resourceMetrics"]
            .iter()
            .any(|k| v.get(k).is_some())
    };
    if !first.as_ref().is_some_and(is_otlp) {
        if let Ok(Value::Object(mut doc)) = serde_json::from_str::<Value>(trimmed) {
            if let Some(Value::Array(events)) = doc.remove("events") {
                let session_id = match doc.get("sessionId").and_then(Value::as_str) {
                    Some(id) if !id.trim().is_empty() => id.to_owned(),
                    _ => session_id_for(file, bytes),
                };
                let meta = match doc.remove("meta") {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                return Ok(Parsed::Rrweb(RrwebFile {
                    session_id,
                    events,
                    meta,
                }));
            }
            if is_otlp(&Value::Object(doc)) {
                // A single pretty-printed request: one "line".
                return parse_lines(std::iter::once((1, trimmed)), file);
            }
        }
        return Err(bad(
            file,
            "its first line is neither an OTLP request (resourceSpans, resourceLogs, resourceMetrics) nor an rrweb recording",
        ));
    }
    parse_lines(text.lines().enumerate().map(|(i, l)| (i + 1, l)), file)
}

fn parse_lines<'a>(lines: impl Iterator<Item = (usize, &'a str)>, file: &str) -> Result<Parsed> {
    let mut out = OtlpFile::default();
    for (n, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: IngestError| bad(file, format!("line {n}: {e}"));
        let value: Value =
            serde_json::from_str(line).map_err(|e| bad(file, format!("line {n}: {e}")))?;
        if value.get("resourceSpans").is_some() {
            out.traces.push(
                otlp::decode(line.as_bytes(), Format::Json, "ExportTraceServiceRequest")
                    .map_err(at)?,
            );
        } else if value.get("resourceLogs").is_some() {
            out.logs.push(
                otlp::decode(line.as_bytes(), Format::Json, "ExportLogsServiceRequest")
                    .map_err(at)?,
            );
        } else if value.get("resourceMetrics").is_some() {
            out.metrics.push(
                otlp::decode(line.as_bytes(), Format::Json, "ExportMetricsServiceRequest")
                    .map_err(at)?,
            );
        } else {
            return Err(bad(
                file,
                format!("line {n} is not an OTLP request (resourceSpans, resourceLogs or resourceMetrics)"),
            ));
        }
        out.lines += 1;
    }
    if out.lines == 0 {
        return Err(bad(file, "it holds no OTLP request"));
    }
    Ok(Parsed::Otlp(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SPANS: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
    const LOGS: &str = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"hi"}}]}]}]}"#;

    #[test]
    fn collector_lines_are_read_plain_gzip_zstd_and_in_records() {
        let text = format!("{SPANS}\n{LOGS}\n\n{SPANS}\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(text.as_bytes(), 3).unwrap();
        let mut records = Vec::new();
        for line in [SPANS, LOGS, SPANS] {
            let frame = zstd::encode_all(line.as_bytes(), 3).unwrap();
            records.extend((frame.len() as u32).to_be_bytes());
            records.extend(frame);
        }
        for bytes in [text.as_bytes().to_vec(), gz, zst, records] {
            let Parsed::Otlp(f) = parse(&decompress(&bytes).unwrap(), "x.jsonl").unwrap() else {
                panic!("not OTLP");
            };
            assert_eq!((f.traces.len(), f.logs.len(), f.lines), (2, 1, 3));
            assert_eq!(
                f.traces[0].resource_spans[0].scope_spans[0].spans[0].name,
                "GET /"
            );
        }
    }

    #[test]
    fn rrweb_recordings_become_sessions() {
        let events = r#"[{"type":4,"data":{"href":"http://shop/"},"timestamp":1000}]"#;
        let Parsed::Rrweb(r) = parse(events.as_bytes(), "/tmp/checkout bug.json").unwrap() else {
            panic!("not rrweb");
        };
        assert_eq!(r.events.len(), 1);
        assert!(r.session_id.starts_with("checkoutbug-"), "{}", r.session_id);
        let again = parse(events.as_bytes(), "/tmp/checkout bug.json").unwrap();
        assert!(
            matches!(again, Parsed::Rrweb(a) if a.session_id == r.session_id),
            "stable id"
        );
        let doc = r#"{"sessionId":"s-9","meta":{"userId":"ada"},"events":[{"type":4,"data":{},"timestamp":1}]}"#;
        let Parsed::Rrweb(d) = parse(doc.as_bytes(), "r.json").unwrap() else {
            panic!("not rrweb");
        };
        assert_eq!(
            (d.session_id.as_str(), d.meta["userId"].as_str()),
            ("s-9", Some("ada"))
        );
    }

    #[test]
    fn other_files_say_what_is_wrong() {
        let second_bad = format!("{SPANS}\n{{\"foo\":1}}");
        for (bytes, says) in [
            (&b"hello"[..], "expected OTLP JSON lines"),
            (&br#"{"foo": 1}"#[..], "neither an OTLP request"),
            (second_bad.as_bytes(), "line 2 is not an OTLP request"),
            (&[0xff, 0xfe][..], "not UTF-8"),
        ] {
            let err = parse(bytes, "f").unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
        let cut = [0, 0, 0, 200, 0x28, 0xb5, 0x2f, 0xfd, 1, 2];
        assert!(decompress(&cut)
            .unwrap_err()
            .to_string()
            .contains("cut short"));
    }
}
