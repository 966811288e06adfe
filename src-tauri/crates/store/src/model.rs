//! The rows the writer stores: OTLP after validation and normalization (done by the ingest
//! crate, on the request's task, so the single writer thread only inserts).
//!
//! Rows refer to their resource and scope by index into the same [`Batch`]; the writer resolves
//! those to deduplicated database ids.

use xxhash_rust::xxh3::Xxh3;

/// A content hash, stable across builds and platforms (it is stored).
pub type ContentHash = [u8; 16];

fn content_hash(parts: &[&[u8]]) -> ContentHash {
    let mut h = Xxh3::new();
    for p in parts {
        // Length-prefixed, so ("ab","c") and ("a","bc") differ.
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.digest128().to_le_bytes()
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRow {
    pub hash: ContentHash,
    pub service_name: Option<String>,
    pub attributes: String,
    pub dropped_attributes_count: u32,
    pub entity_refs: String,
    pub schema_url: String,
}

impl ResourceRow {
    pub fn new(
        attributes: String,
        dropped_attributes_count: u32,
        entity_refs: String,
        schema_url: String,
        service_name: Option<String>,
    ) -> Self {
        let hash = content_hash(&[
            attributes.as_bytes(),
            &dropped_attributes_count.to_le_bytes(),
            entity_refs.as_bytes(),
            schema_url.as_bytes(),
        ]);
        Self {
            hash,
            service_name,
            attributes,
            dropped_attributes_count,
            entity_refs,
            schema_url,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScopeRow {
    pub hash: ContentHash,
    pub name: String,
    pub version: String,
    pub attributes: String,
    pub dropped_attributes_count: u32,
    pub schema_url: String,
}

impl ScopeRow {
    pub fn new(
        name: String,
        version: String,
        attributes: String,
        dropped_attributes_count: u32,
        schema_url: String,
    ) -> Self {
        let hash = content_hash(&[
            name.as_bytes(),
            version.as_bytes(),
            attributes.as_bytes(),
            &dropped_attributes_count.to_le_bytes(),
            schema_url.as_bytes(),
        ]);
        Self {
            hash,
            name,
            version,
            attributes,
            dropped_attributes_count,
            schema_url,
        }
    }
}

/// What a span or log record says about who and where, read once by normalize from its own
/// attributes and its resource's (the incident tagger matches windows on these, and would
/// otherwise parse the attribute JSON normalize had just written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordFacts {
    /// The end user (`enduser.id`, `user.id`, …): the record's own, else its resource's. As
    /// sent (redacted by key, not yet by content: see `redact::redacted`).
    pub user: Option<String>,
    /// The URL the record is about (`url.full`, `http.url`, `url.path`, …), likewise.
    pub url: Option<String>,
    /// The sender's own incident mark.
    pub incident: Option<IncidentMark>,
}

/// How a sender marks a record as an incident window's.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentMark {
    /// `incident.id`: that window.
    Id(String),
    /// `incident.mode=true`: the window the sender was told about, the newest open one.
    Newest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub resource: usize,
    pub scope: usize,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub trace_state: String,
    pub flags: u32,
    pub name: String,
    pub kind: i32,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: String,
    pub dropped_attributes_count: u32,
    /// JSON array of events (see `views::event_json`).
    pub events: String,
    pub dropped_events_count: u32,
    /// JSON array of links.
    pub links: String,
    pub dropped_links_count: u32,
    pub status_code: i32,
    pub status_message: String,
    pub session_id: Option<String>,
    /// The incident window it arrived in (within the window's scope).
    pub incident_id: Option<String>,
    /// Read by normalize; not stored.
    pub facts: RecordFacts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub resource: usize,
    pub scope: usize,
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub severity_text: String,
    /// The body in the attribute encoding; `None` when the record has no body.
    pub body: Option<String>,
    pub attributes: String,
    pub dropped_attributes_count: u32,
    pub flags: u32,
    pub trace_id: Option<[u8; 16]>,
    pub span_id: Option<[u8; 8]>,
    pub event_name: String,
    pub session_id: Option<String>,
    /// The incident window it belongs to: arrived in one (within its scope), or marked by its
    /// sender (`incident.id`, `incident.mode=true`).
    pub incident_id: Option<String>,
    /// Read by normalize; not stored.
    pub facts: RecordFacts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub hash: ContentHash,
    pub resource: usize,
    pub scope: usize,
    pub name: String,
    pub description: String,
    pub unit: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram`, `summary`; `None` for no data.
    pub kind: Option<&'static str>,
    pub aggregation_temporality: i32,
    pub is_monotonic: bool,
    pub metadata: String,
}

impl MetricRow {
    /// The hash identifies a metric stream within its resource and scope, so it is completed by
    /// the writer once those have ids; this one covers the metric's own fields.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        resource: usize,
        scope: usize,
        name: String,
        description: String,
        unit: String,
        kind: Option<&'static str>,
        aggregation_temporality: i32,
        is_monotonic: bool,
        metadata: String,
    ) -> Self {
        let hash = content_hash(&[
            name.as_bytes(),
            description.as_bytes(),
            unit.as_bytes(),
            kind.unwrap_or("").as_bytes(),
            &aggregation_temporality.to_le_bytes(),
            &[is_monotonic as u8],
            metadata.as_bytes(),
        ]);
        Self {
            hash,
            resource,
            scope,
            name,
            description,
            unit,
            kind,
            aggregation_temporality,
            is_monotonic,
            metadata,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    pub metric: usize,
    pub time_unix_nano: u64,
    pub start_time_unix_nano: u64,
    pub attributes: String,
    pub value: Option<f64>,
    pub count: Option<u64>,
    pub sum: Option<f64>,
    /// The OTLP data point, protobuf-encoded, with its attributes cleared.
    pub point: Vec<u8>,
}

/// What the recorder said about the page and user, with one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayMeta {
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub url: Option<String>,
    pub user_agent: Option<String>,
    /// JSON, as the recorder sent it.
    pub viewport: Option<String>,
    /// Free attributes, a JSON object.
    pub attributes: String,
}

/// The data of a page view inferred from a semantic event's `page.url` (not a navigation the
/// client reported): the writer keeps it only when it changes the session's page.
pub const DERIVED_PAGE_VIEW: &str = r#"{"derived":"page.url"}"#;

/// A meaningful event found in an rrweb stream, for the session's index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionEventRow {
    pub timestamp_ms: i64,
    /// page_view | click | input | network | console | error | custom | dom | scroll
    pub kind: &'static str,
    pub target: Option<String>,
    pub node_id: Option<i64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// JSON details; never the text typed into an input.
    pub data: String,
    /// The incident window the event was captured in.
    pub incident_id: Option<String>,
    /// Clicks and inputs: the kind of control hit (`editable`, `external`, `link`, `button`,
    /// `static`), when the event itself says; otherwise the session's node mirror tells.
    pub control: Option<&'static str>,
}

/// What an rrweb node id meant from `since_ms` on: its tag, the kind of control it belongs to
/// and the name a person would give it. Built from full snapshots and mutations.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub node_id: i64,
    pub since_ms: i64,
    pub tag: String,
    pub control: &'static str,
    pub name: Option<String>,
}

/// One recorder batch of rrweb events, validated and compressed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayChunkRow {
    pub session_id: String,
    pub batch: i64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub event_count: u32,
    /// Size of the events as received (JSON).
    pub raw_bytes: u64,
    /// zstd-compressed JSON array of the events, in the order they were sent.
    pub data: Vec<u8>,
    /// Full snapshots in this batch: (timestamp, index in the batch).
    pub checkpoints: Vec<(i64, u32)>,
    /// Pages entered in this batch (rrweb meta events, or the meta URL): (url, timestamp).
    pub pages: Vec<(String, i64)>,
    pub meta: ReplayMeta,
    pub received_ms: i64,
    /// The batch's meaningful events, in time order.
    pub index: Vec<SessionEventRow>,
    /// Elements the batch's snapshots and mutations made known (see [`NodeRow`]).
    pub nodes: Vec<NodeRow>,
}

/// One request's worth of rows; the writer commits several batches in one transaction.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    pub resources: Vec<ResourceRow>,
    pub scopes: Vec<ScopeRow>,
    pub spans: Vec<SpanRow>,
    pub logs: Vec<LogRow>,
    pub metrics: Vec<MetricRow>,
    pub points: Vec<PointRow>,
    pub replay: Vec<ReplayChunkRow>,
    /// Incident windows started, extended or stopped: each replaces the stored one by id.
    pub incidents: Vec<crate::incident::Incident>,
    /// The bundle this batch imports, recorded with its sessions. A bundle already imported
    /// fails the batch (its checksum is the key), so nothing of it is stored twice.
    pub import: Option<ImportRow>,
    /// Retention: what to delete (in this batch's transaction; space is reclaimed after).
    pub delete: Option<crate::retention::Deletion>,
    /// Sessions pinned (kept whatever the retention) or unpinned.
    pub pins: Vec<PinChange>,
}

/// A session pinned or unpinned.
#[derive(Debug, Clone, PartialEq)]
pub struct PinChange {
    pub session_id: String,
    /// `Some(note)`: pinned, with a note (possibly empty); `None`: unpinned.
    pub pin: Option<String>,
    pub at_ms: i64,
}

/// An imported bundle: what the UI says about where its sessions came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub checksum: String,
    pub file_name: String,
    pub imported_ms: i64,
    pub exported_ms: Option<i64>,
    pub source: Option<String>,
    /// The manifest as JSON.
    pub manifest: String,
    pub sessions: Vec<String>,
}

impl Batch {
    /// Rows that cost an insert; sizes group commits.
    pub fn row_count(&self) -> usize {
        self.spans.len()
            + self.logs.len()
            + self.points.len()
            + self
                .replay
                .iter()
                .map(|c| c.event_count as usize / 16 + 1)
                .sum::<usize>()
    }

    /// Adds `other` to this batch (its resource, scope and metric indexes shifted past
    /// this batch's), so that both are written in one transaction: all or nothing.
    pub fn append(&mut self, other: Batch) {
        let (resources, scopes, metrics) =
            (self.resources.len(), self.scopes.len(), self.metrics.len());
        self.resources.extend(other.resources);
        self.scopes.extend(other.scopes);
        self.spans.extend(other.spans.into_iter().map(|mut s| {
            s.resource += resources;
            s.scope += scopes;
            s
        }));
        self.logs.extend(other.logs.into_iter().map(|mut l| {
            l.resource += resources;
            l.scope += scopes;
            l
        }));
        self.metrics.extend(other.metrics.into_iter().map(|mut m| {
            m.resource += resources;
            m.scope += scopes;
            m
        }));
        self.points.extend(other.points.into_iter().map(|mut p| {
            p.metric += metrics;
            p
        }));
        self.replay.extend(other.replay);
        self.incidents.extend(other.incidents);
        if other.import.is_some() {
            self.import = other.import;
        }
        if other.delete.is_some() {
            self.delete = other.delete;
        }
        self.pins.extend(other.pins);
    }

    pub fn is_empty(&self) -> bool {
        self.row_count() == 0
            && self.metrics.is_empty()
            && self.incidents.is_empty()
            && self.import.is_none()
            && self.delete.is_none()
            && self.pins.is_empty()
    }
}

/// A metric stream's identity in the database: its own fields plus where it came from.
pub(crate) fn metric_stream_hash(
    metric: &MetricRow,
    resource_id: i64,
    scope_id: i64,
) -> ContentHash {
    content_hash(&[
        &metric.hash,
        &resource_id.to_le_bytes(),
        &scope_id.to_le_bytes(),
    ])
}
