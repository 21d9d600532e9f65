//! The streaming detector: feed it lines or documents, get alerts back.
//!
//! State is bounded: the per-request stage de-duplication table, held
//! `RequestReceived` events and threshold buckets are all pruned by event time
//! and capped in size. Input is bounded too: lines over
//! [`DetectorOptions::max_line_bytes`] and documents over
//! [`DetectorOptions::max_document_bytes`] are refused and reported as
//! [`InputError`]s, as are lines that are not JSON and `EventList` items that
//! are not audit events.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Read};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::alert::{Alert, AlertObject};
use crate::event::Event;
use crate::expr::{resolve, Ctx};
use crate::group::{GroupOptions, Grouper};
use crate::input::{
    json_error_reason, InputError, InputErrorKind, Line, LineReader, DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_LINE_BYTES, MAX_KEPT_INPUT_ERRORS,
};
use crate::redact::{cap_list, truncate_field, MAX_FIELD_BYTES};
use crate::rules::{Piece, Rule, RuleSet, Severity, Special, ThresholdKey};

/// The file name used for input given without one.
const UNNAMED: &str = "<input>";

/// Detector settings.
#[derive(Debug, Clone)]
pub struct DetectorOptions {
    /// Allowed client address ranges. Rules using `sourceIPOutsideAllowed` are
    /// inactive while this is empty.
    pub allowed_source_ranges: Vec<IpNet>,
    /// How long (event time) a `RequestReceived` event is held waiting for a
    /// later stage of the same request before it is evaluated on its own.
    pub request_received_grace_micros: i64,
    /// How long (event time) alerts are remembered per audit id, so that a later
    /// stage of the same request does not alert again.
    pub dedup_window_micros: i64,
    /// Upper bound on remembered audit ids, held events and threshold buckets
    /// (each).
    pub max_state_entries: usize,
    /// Longest accepted line of JSON-lines input, in bytes
    /// ([`DEFAULT_MAX_LINE_BYTES`], 16 MiB). Longer lines are skipped and
    /// reported; [`Detector::feed_reader`] skips them without reading them into
    /// memory.
    pub max_line_bytes: usize,
    /// Largest single JSON document (a pretty-printed `Event` or `EventList`)
    /// accepted, in bytes ([`DEFAULT_MAX_DOCUMENT_BYTES`], 256 MiB).
    pub max_document_bytes: usize,
    /// Grouping of repeated alerts (same rule and subject within a window, 60 s by
    /// default): see [`GroupOptions`].
    pub grouping: GroupOptions,
    /// How long (event time) after kubectl's failed WebSocket attempt at an exec, attach or
    /// port-forward its SPDY retry of the same command is awaited (5 s): the attempt's alerts
    /// are held that long and dropped when the retry raises the same rule. 0 turns this off.
    pub retry_window_micros: i64,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            allowed_source_ranges: Vec::new(),
            request_received_grace_micros: 5_000_000,
            dedup_window_micros: 600_000_000,
            max_state_entries: 100_000,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            grouping: GroupOptions::default(),
            retry_window_micros: 5_000_000,
        }
    }
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Audit events evaluated (list items count individually).
    pub events: u64,
    /// Alerts reported (group summaries included, folded alerts not).
    pub alerts: u64,
    /// Alerts folded into a group summary instead of being reported on their own.
    pub grouped: u64,
    /// Alerts of kubectl's failed WebSocket attempts dropped because its SPDY retry of the
    /// same command raised the same rule (the retry's alert names the attempt's audit id).
    pub retries_merged: u64,
    /// Input that was not JSON.
    pub bad_lines: u64,
    /// JSON that was not an audit event.
    pub non_events: u64,
    /// Lines and documents over the size limits, skipped.
    pub oversized: u64,
    /// `EventList` items that were not audit events (the other items were evaluated).
    pub bad_items: u64,
}

struct Bucket {
    times: VecDeque<i64>,
    quiet_until: i64,
    last: i64,
}

/// Alerts of a failed WebSocket attempt, waiting for kubectl's SPDY retry.
struct HeldAttempt {
    time: i64,
    code: i64,
    alerts: Vec<(u32, i64, Alert)>,
}

/// User, impersonated user and request URI of an exec, attach or port-forward request.
type RetryKey = (String, String, String);

/// Whether the event is an exec, attach or port-forward request: `Some(true)` for a GET
/// (kubectl's WebSocket attempt), `Some(false)` for a POST (SPDY).
fn streaming_request(ev: &Event) -> Option<bool> {
    let o = ev.object_ref.as_ref()?;
    if o.resource != "pods" || !matches!(o.subresource.as_str(), "exec" | "attach" | "portforward")
    {
        return None;
    }
    match ev.verb.as_str() {
        "get" => Some(true),
        "create" => Some(false),
        _ => None,
    }
}

fn retry_key(ev: &Event) -> RetryKey {
    (
        ev.user.username.clone(),
        ev.impersonated_user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default(),
        ev.request_uri.clone(),
    )
}

/// Evaluates rules over a stream of audit events.
pub struct Detector {
    rules: Vec<Rule>,
    opts: DetectorOptions,
    stats: Stats,
    now: i64,
    /// audit id -> indices of rules that already alerted for it.
    seen: HashMap<String, Vec<u32>>,
    seen_order: VecDeque<(i64, String)>,
    /// Held `RequestReceived` events.
    pending: HashMap<String, Event>,
    pending_order: VecDeque<(i64, String)>,
    buckets: HashMap<(u32, String), Bucket>,
    events_since_gc: u32,
    needs_source: bool,
    /// Rule indices to evaluate, per `objectRef.resource` (in rule order).
    by_resource: HashMap<String, Arc<[u32]>>,
    /// Rule indices for resources not in `by_resource`.
    any_resource: Arc<[u32]>,
    /// The first input errors, with their location.
    input_errors: Vec<InputError>,
    /// Alerts of failed WebSocket attempts, by request, waiting for the SPDY retry.
    retries: HashMap<RetryKey, HeldAttempt>,
    retries_order: VecDeque<(i64, RetryKey)>,
    grouper: Grouper,
}

impl Detector {
    /// A detector over the enabled rules of `rules`, with default options.
    pub fn new(rules: RuleSet) -> Detector {
        Detector::with_options(rules, DetectorOptions::default())
    }

    /// A detector with explicit options.
    pub fn with_options(rules: RuleSet, opts: DetectorOptions) -> Detector {
        let ranges = !opts.allowed_source_ranges.is_empty();
        let rules: Vec<Rule> = rules
            .rules()
            .iter()
            .filter(|r| r.enabled && (ranges || !r.condition.uses_source_ranges()))
            .cloned()
            .collect();
        let needs_source = rules.iter().any(|r| {
            r.condition.uses_source_ranges()
                || r.variants.iter().any(|v| v.when.uses_source_ranges())
        });
        // Index: rules that only match some resources are evaluated only for those.
        let required: Vec<Option<Vec<String>>> = rules
            .iter()
            .map(|r| r.condition.required_resources())
            .collect();
        let any_resource: Arc<[u32]> = (0..rules.len() as u32)
            .filter(|&i| required[i as usize].is_none())
            .collect();
        let mut by_resource: HashMap<String, Arc<[u32]>> = HashMap::new();
        for res in required.iter().flatten().flatten() {
            by_resource.entry(res.clone()).or_insert_with(|| {
                (0..rules.len() as u32)
                    .filter(|&i| {
                        required[i as usize]
                            .as_ref()
                            .is_none_or(|v| v.contains(res))
                    })
                    .collect()
            });
        }
        Detector {
            rules,
            stats: Stats::default(),
            now: i64::MIN,
            seen: HashMap::new(),
            seen_order: VecDeque::new(),
            pending: HashMap::new(),
            pending_order: VecDeque::new(),
            buckets: HashMap::new(),
            events_since_gc: 0,
            needs_source,
            by_resource,
            any_resource,
            input_errors: Vec::new(),
            retries: HashMap::new(),
            retries_order: VecDeque::new(),
            grouper: Grouper::new(opts.grouping.clone(), opts.max_state_entries),
            opts,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &DetectorOptions {
        &self.opts
    }

    /// The active (enabled) rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of entries currently held in windowed state (remembered audit ids,
    /// held `RequestReceived` events, threshold buckets, held WebSocket attempts, open
    /// alert groups). Bounded by [`DetectorOptions::max_state_entries`] per kind and pruned
    /// by event time.
    pub fn state_entries(&self) -> usize {
        self.seen.len()
            + self.pending.len()
            + self.buckets.len()
            + self.retries.len()
            + self.grouper.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            grouped: self.grouper.folded,
            ..self.stats
        }
    }

    /// Input errors kept so far (the first [`MAX_KEPT_INPUT_ERRORS`]; all are
    /// counted in [`Stats`]).
    pub fn input_errors(&self) -> &[InputError] {
        &self.input_errors
    }

    /// Takes the input errors kept so far, making room for new ones.
    pub fn take_input_errors(&mut self) -> Vec<InputError> {
        std::mem::take(&mut self.input_errors)
    }

    fn record(
        &mut self,
        file: &str,
        line: u64,
        item: Option<usize>,
        kind: InputErrorKind,
        message: String,
    ) {
        if self.input_errors.len() < MAX_KEPT_INPUT_ERRORS {
            self.input_errors.push(InputError {
                file: file.to_string(),
                line,
                item,
                kind,
                message,
            });
        }
    }

    fn line_too_long(&mut self, file: &str, line: u64, bytes: u64) {
        self.stats.oversized += 1;
        let max = self.opts.max_line_bytes;
        self.record(
            file,
            line,
            None,
            InputErrorKind::LineTooLong,
            format!("line of {bytes} bytes is over the limit of {max} bytes; skipped"),
        );
    }

    /// Feeds one line of JSON-lines input. Blank lines are ignored; lines that are
    /// not JSON or not audit events are counted, never fatal.
    pub fn feed_line(&mut self, line: &str) -> Vec<Alert> {
        let mut out = Vec::new();
        self.feed_line_into(line, &mut out);
        out
    }

    /// Like [`Detector::feed_line`] but appends alerts to `out`.
    pub fn feed_line_into(&mut self, line: &str, out: &mut Vec<Alert>) {
        self.feed_line_at(UNNAMED, 0, line, out);
    }

    /// Like [`Detector::feed_line_into`], naming the line's file and number in the
    /// input errors it causes.
    pub fn feed_line_at(&mut self, file: &str, number: u64, line: &str, out: &mut Vec<Alert>) {
        if line.len() > self.opts.max_line_bytes {
            self.line_too_long(file, number, line.len() as u64);
            return;
        }
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            return;
        }
        self.handle_text(line, file, number, out);
    }

    /// Like [`Detector::feed_line_at`] for bytes; a line that is not UTF-8 counts as
    /// not JSON.
    pub fn feed_line_bytes_at(
        &mut self,
        file: &str,
        number: u64,
        line: &[u8],
        out: &mut Vec<Alert>,
    ) {
        match std::str::from_utf8(line) {
            Ok(text) => self.feed_line_at(file, number, text, out),
            Err(_) if line.len() > self.opts.max_line_bytes => {
                self.line_too_long(file, number, line.len() as u64);
            }
            Err(_) => {
                self.stats.bad_lines += 1;
                self.record(
                    file,
                    number,
                    None,
                    InputErrorKind::NotJson,
                    "not UTF-8 text".to_string(),
                );
            }
        }
    }

    /// Feeds one line from a [`LineReader`] over `file` (an over-long line is counted and
    /// reported).
    pub fn feed_read_line(&mut self, file: &str, line: Line<'_>, out: &mut Vec<Alert>) {
        match line {
            Line::Text { number, text } => self.feed_line_bytes_at(file, number, text, out),
            Line::TooLong { number, bytes } => self.line_too_long(file, number, bytes),
        }
    }

    /// Parses one JSON text (a line, or one value of a document) starting at `line`.
    fn handle_text(&mut self, text: &str, file: &str, line: u64, out: &mut Vec<Alert>) {
        match serde_json::from_str::<Event>(text) {
            Ok(ev) => self.handle_doc(ev, Some(text), file, line, out),
            Err(e) => {
                if let Some(items) = list_items(text) {
                    // A list whose envelope is not an audit event list still has items.
                    let lines = value_lines(text, &items, line);
                    for (i, (raw, l)) in items.iter().zip(lines).enumerate() {
                        match serde_json::from_str::<Event>(raw.get()) {
                            Ok(ev) => self.handle_doc(ev, Some(raw.get()), file, l, out),
                            Err(e) => self.bad_item(file, l, i, e.line(), json_error_reason(&e)),
                        }
                    }
                } else if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                    self.stats.non_events += 1;
                } else {
                    self.stats.bad_lines += 1;
                    let at = line + (e.line() as u64).saturating_sub(1);
                    self.record(
                        file,
                        at,
                        None,
                        InputErrorKind::NotJson,
                        format!("not JSON: {}", json_error_reason(&e)),
                    );
                }
            }
        }
    }

    fn bad_item(&mut self, file: &str, line: u64, index: usize, in_item: usize, msg: String) {
        self.stats.bad_items += 1;
        let at = if line == 0 {
            0
        } else {
            line + (in_item as u64).saturating_sub(1)
        };
        self.record(
            file,
            at,
            Some(index),
            InputErrorKind::BadItem,
            format!("not an audit event ({msg}); the other items were evaluated"),
        );
    }

    /// Feeds a whole document: one event, an `EventList`, several concatenated
    /// JSON values, or JSON lines. Unparseable parts are counted line by line.
    pub fn feed_document(&mut self, doc: &[u8]) -> Vec<Alert> {
        let mut out = Vec::new();
        self.feed_document_at(UNNAMED, doc, &mut out);
        out
    }

    /// Like [`Detector::feed_document`], naming the document's file in the input
    /// errors it causes, and appending alerts to `out`. A document over
    /// [`DetectorOptions::max_document_bytes`] is refused.
    pub fn feed_document_at(&mut self, file: &str, doc: &[u8], out: &mut Vec<Alert>) {
        if doc.len() > self.opts.max_document_bytes {
            self.document_too_large(file, Some(doc.len()));
            return;
        }
        let text = String::from_utf8_lossy(doc);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        // Values are read as events; one that is JSON but not an event is read again
        // on its own (it may be a list with good items), and reading goes on after it.
        let mut pos = 0usize;
        let mut line = 1u64;
        let mut counted = 0usize;
        'values: loop {
            let rest = &text[pos..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Event>();
            loop {
                let before = stream.byte_offset();
                let start = pos + before + leading_whitespace(&rest[before..]);
                let next = stream.next();
                if next.is_some() {
                    line += newlines(&text[counted..start]);
                    counted = start;
                }
                match next {
                    None => break 'values,
                    Some(Ok(ev)) => {
                        let end = pos + stream.byte_offset();
                        self.handle_doc(ev, Some(&text[start..end]), file, line, out);
                    }
                    Some(Err(_)) => {
                        let raw = serde_json::Deserializer::from_str(&text[start..])
                            .into_iter::<&RawValue>()
                            .next();
                        if let Some(Ok(raw)) = raw {
                            self.handle_text(raw.get(), file, line, out);
                            pos = start + raw.get().len();
                            continue 'values;
                        }
                        // Not JSON: line by line for the rest.
                        let from = pos + before;
                        let first = line.saturating_sub(newlines(&text[from..start]));
                        for (i, l) in text[from..].split('\n').enumerate() {
                            self.feed_line_at(file, first + i as u64, l, out);
                        }
                        break 'values;
                    }
                }
            }
        }
    }

    fn document_too_large(&mut self, file: &str, bytes: Option<usize>) {
        self.stats.oversized += 1;
        let max = self.opts.max_document_bytes;
        let size = match bytes {
            Some(b) => format!("of {b} bytes"),
            None => "larger than the limit".to_string(),
        };
        self.record(
            file,
            0,
            None,
            InputErrorKind::DocumentTooLarge,
            format!("JSON document {size} is over the limit of {max} bytes; not read"),
        );
    }

    /// Reads a whole audit log: JSON lines, or one (pretty-printed) JSON document
    /// when its first line is not a complete JSON value. Lines over
    /// [`DetectorOptions::max_line_bytes`] are skipped without being held in
    /// memory; a document over [`DetectorOptions::max_document_bytes`] is not
    /// read. Alerts go to `sink` as they are raised; input errors are counted and
    /// kept (see [`Detector::input_errors`]). Held `RequestReceived` events stay
    /// held: call [`Detector::flush`] at the end of all input.
    pub fn feed_reader<R, E, F>(&mut self, file: &str, reader: R, mut sink: F) -> Result<(), E>
    where
        R: BufRead,
        E: From<io::Error>,
        F: FnMut(Vec<Alert>) -> Result<(), E>,
    {
        let mut lines = LineReader::new(reader, self.opts.max_line_bytes);
        let mut out = Vec::new();
        let mut first = true;
        loop {
            let mut document = None;
            match lines.next_line()? {
                None => break,
                Some(Line::Text { text, .. }) if first && is_single_document(text) => {
                    let mut doc = text.to_vec();
                    doc.push(b'\n');
                    document = Some(doc);
                }
                Some(line) => self.feed_read_line(file, line, &mut out),
            }
            if let Some(mut doc) = document {
                let limit = self.opts.max_document_bytes;
                let room = limit.saturating_add(1).saturating_sub(doc.len()) as u64;
                lines.into_inner().take(room).read_to_end(&mut doc)?;
                if doc.len() > limit {
                    self.document_too_large(file, None);
                } else {
                    self.feed_document_at(file, &doc, &mut out);
                }
                return sink(out);
            }
            first = false;
            if !out.is_empty() {
                sink(std::mem::take(&mut out))?;
            }
        }
        if let Some(line) = lines.finish() {
            self.feed_read_line(file, line, &mut out);
        }
        sink(out)
    }

    /// Evaluates held `RequestReceived` events that never saw a later stage.
    /// Call at the end of input.
    ///
    /// Also reports what is held for later: the alerts of a failed WebSocket attempt still
    /// waiting for its retry, and every open alert group (its summary, or in hold mode its
    /// one alert). Nothing held is lost, but a group flushed early is summarised early;
    /// a front-end that calls this periodically while input goes on should call
    /// [`Detector::tick`] instead, and this at the end of input.
    pub fn flush(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        let held: Vec<(i64, String)> = self.pending_order.drain(..).collect();
        for (_, id) in held {
            if let Some(ev) = self.pending.remove(&id) {
                self.evaluate(&ev, &mut out);
            }
        }
        self.release_retries(i64::MAX, &mut out);
        let mut closed = Vec::new();
        self.grouper.close_all(&mut closed);
        self.report(closed, &mut out);
        out
    }

    /// For streaming front-ends (`--follow`, the audit webhook), called periodically with
    /// the current time (microseconds since the Unix epoch, the clock event timestamps are
    /// in): reports what is due by then although no later event has arrived: held
    /// `RequestReceived` events past their grace period, WebSocket attempts whose retry did
    /// not come, and the summaries of alert groups whose window has closed. Held state that
    /// is not due stays held. Event time is not moved: `now` is only compared with it.
    pub fn tick(&mut self, now: i64) -> Vec<Alert> {
        let mut out = Vec::new();
        while let Some((t, _)) = self.pending_order.front() {
            if t.saturating_add(self.opts.request_received_grace_micros) >= now {
                break;
            }
            let Some((_, id)) = self.pending_order.pop_front() else {
                break;
            };
            if let Some(ev) = self.pending.remove(&id) {
                self.evaluate(&ev, &mut out);
            }
        }
        self.release_retries(now, &mut out);
        let mut closed = Vec::new();
        self.grouper.close_due(now, &mut closed);
        self.report(closed, &mut out);
        out
    }

    /// One parsed document; `text` is its JSON text, starting at `line`.
    fn handle_doc(
        &mut self,
        mut ev: Event,
        text: Option<&str>,
        file: &str,
        line: u64,
        out: &mut Vec<Alert>,
    ) {
        if ev.is_list() {
            if !ev.item_errors.is_empty() {
                let lines = text
                    .and_then(|t| list_items(t).map(|items| value_lines(t, &items, line)))
                    .unwrap_or_default();
                for err in std::mem::take(&mut ev.item_errors) {
                    let l = lines.get(err.index).copied().unwrap_or(line);
                    self.bad_item(file, l, err.index, err.line, err.message);
                }
            }
            for item in ev.items.unwrap_or_default() {
                self.handle_doc(item, None, file, line, out);
            }
            return;
        }
        if !ev.is_event() {
            self.stats.non_events += 1;
            return;
        }
        self.feed_event_into(ev, out);
    }

    /// Feeds one parsed event.
    pub fn feed_event(&mut self, ev: Event) -> Vec<Alert> {
        let mut out = Vec::new();
        self.feed_event_into(ev, &mut out);
        out
    }

    fn feed_event_into(&mut self, mut ev: Event, out: &mut Vec<Alert>) {
        ev.scrub_bodies();
        self.stats.events += 1;
        if let Some(t) = ev.time_micros() {
            if t > self.now {
                self.now = t;
            }
        }
        self.release_pending(out);
        self.release_retries(self.now, out);
        let mut closed = Vec::new();
        self.grouper.close_due(self.now, &mut closed);
        self.report(closed, out);
        self.events_since_gc += 1;
        if self.events_since_gc >= 1024 {
            self.events_since_gc = 0;
            self.gc();
        }
        if ev.stage == "RequestReceived" && !ev.audit_id.is_empty() {
            if self.pending.len() >= self.opts.max_state_entries {
                if let Some((_, id)) = self.pending_order.pop_front() {
                    if let Some(old) = self.pending.remove(&id) {
                        self.evaluate(&old, out);
                    }
                }
            }
            let t = ev.time_micros().unwrap_or(self.now);
            self.pending_order.push_back((t, ev.audit_id.clone()));
            self.pending.insert(ev.audit_id.clone(), ev);
            return;
        }
        if !ev.audit_id.is_empty() && !self.pending.is_empty() {
            self.pending.remove(&ev.audit_id);
        }
        self.evaluate(&ev, out);
    }

    fn release_pending(&mut self, out: &mut Vec<Alert>) {
        while let Some((t, _)) = self.pending_order.front() {
            if *t + self.opts.request_received_grace_micros >= self.now {
                break;
            }
            let Some((_, id)) = self.pending_order.pop_front() else {
                break;
            };
            if let Some(ev) = self.pending.remove(&id) {
                self.evaluate(&ev, out);
            }
        }
    }

    fn gc(&mut self) {
        let now = self.now;
        let horizon = now.saturating_sub(self.opts.dedup_window_micros);
        while let Some((t, _)) = self.seen_order.front() {
            if *t >= horizon && self.seen_order.len() <= self.opts.max_state_entries {
                break;
            }
            if let Some((_, id)) = self.seen_order.pop_front() {
                self.seen.remove(&id);
            }
        }
        let rules = &self.rules;
        self.buckets.retain(|(ri, _), b| {
            let w = rules[*ri as usize]
                .threshold
                .map(|t| t.window_micros)
                .unwrap_or(0);
            b.last + w >= now || b.quiet_until >= now
        });
    }

    fn source_outside(&self, ev: &Event) -> bool {
        if !self.needs_source {
            return false;
        }
        let Some(first) = ev.source_ips.first() else {
            return false;
        };
        match first.parse::<IpAddr>() {
            Ok(ip) => !self
                .opts
                .allowed_source_ranges
                .iter()
                .any(|n| n.contains(&ip)),
            Err(_) => false,
        }
    }

    fn evaluate(&mut self, ev: &Event, out: &mut Vec<Alert>) {
        let ctx = Ctx {
            ev,
            source_outside: self.source_outside(ev),
        };
        let t = ev.time_micros().unwrap_or(self.now);
        let list = match ev
            .object_ref
            .as_ref()
            .and_then(|o| self.by_resource.get(o.resource.as_str()))
        {
            Some(l) => Arc::clone(l),
            None => Arc::clone(&self.any_resource),
        };
        // The event as alert text may show it, built once when a rule's output needs it.
        let mut view: Option<Event> = None;
        let mut fresh: Vec<(u32, Alert)> = Vec::new();
        for &ri32 in list.iter() {
            let ri = ri32 as usize;
            let rule = &self.rules[ri];
            if !rule.condition.eval_ctx(&ctx) || rule.except.matches(ev) {
                continue;
            }
            let mut count = None;
            if let Some(th) = rule.threshold {
                // Count each request once: skip the streaming ResponseStarted stage.
                if ev.stage == "ResponseStarted" {
                    continue;
                }
                let key = match th.by {
                    ThresholdKey::User => ev.user.username.clone(),
                    ThresholdKey::SourceIp => ev.source_ips.first().cloned().unwrap_or_default(),
                    ThresholdKey::Namespace => ev
                        .object_ref
                        .as_ref()
                        .map(|o| o.namespace.clone())
                        .unwrap_or_default(),
                };
                if self.buckets.len() >= self.opts.max_state_entries
                    && !self.buckets.contains_key(&(ri as u32, key.clone()))
                {
                    continue;
                }
                let b = self
                    .buckets
                    .entry((ri as u32, key))
                    .or_insert_with(|| Bucket {
                        times: VecDeque::new(),
                        quiet_until: i64::MIN,
                        last: t,
                    });
                b.last = t;
                while b.times.front().is_some_and(|&x| x + th.window_micros < t) {
                    b.times.pop_front();
                }
                b.times.push_back(t);
                if b.times.len() < th.count as usize || t < b.quiet_until {
                    if b.times.len() > th.count as usize {
                        b.times.pop_front();
                    }
                    continue;
                }
                count = Some(b.times.len() as u32);
                b.times.clear();
                b.quiet_until = t + th.window_micros;
            } else if !ev.audit_id.is_empty() {
                let entry = self.seen.get(&ev.audit_id);
                if entry.is_some_and(|v| v.contains(&(ri as u32))) {
                    continue;
                }
                // Remember only when a later stage of this request may follow.
                if ev.stage != "ResponseComplete" && ev.stage != "Panic" {
                    match self.seen.get_mut(&ev.audit_id) {
                        Some(v) => v.push(ri as u32),
                        None => {
                            self.seen.insert(ev.audit_id.clone(), vec![ri as u32]);
                            self.seen_order.push_back((t, ev.audit_id.clone()));
                        }
                    }
                }
            }
            let rule = &self.rules[ri];
            let variant = rule.variants.iter().find(|v| v.when.eval_ctx(&ctx));
            let severity = variant.and_then(|v| v.severity).unwrap_or(rule.severity);
            let output = variant
                .and_then(|v| v.output.as_deref())
                .unwrap_or(&rule.output);
            let shown = if output.iter().any(needs_view) {
                Some(&*view.get_or_insert_with(|| ev.output_view()))
            } else {
                None
            };
            fresh.push((ri32, make_alert(rule, severity, output, &ctx, shown, count)));
        }
        self.after_evaluate(ev, t, fresh, out);
    }

    /// Routes the alerts one event raised: holds those of a failed WebSocket attempt,
    /// merges a retry with its held attempt, and passes the rest to grouping.
    fn after_evaluate(
        &mut self,
        ev: &Event,
        t: i64,
        fresh: Vec<(u32, Alert)>,
        out: &mut Vec<Alert>,
    ) {
        let window = self.opts.retry_window_micros;
        let streaming = if window > 0 {
            streaming_request(ev)
        } else {
            None
        };
        let mut fresh = fresh;
        match streaming {
            // kubectl falls back to SPDY when the WebSocket upgrade is answered with anything
            // but 101: hold the attempt's alerts for the retry.
            Some(true) if !fresh.is_empty() && ev.code().is_some_and(|c| c >= 400) => {
                let key = retry_key(ev);
                if let Some(old) = self.retries.remove(&key) {
                    self.release_attempt(old, out);
                }
                if self.retries.len() >= self.opts.max_state_entries {
                    while let Some((_, k)) = self.retries_order.pop_front() {
                        if let Some(old) = self.retries.remove(&k) {
                            self.release_attempt(old, out);
                            break;
                        }
                    }
                }
                self.retries_order.push_back((t, key.clone()));
                self.retries.insert(
                    key,
                    HeldAttempt {
                        time: t,
                        code: ev.code().unwrap_or(0),
                        alerts: fresh.into_iter().map(|(ri, a)| (ri, t, a)).collect(),
                    },
                );
                return;
            }
            Some(false) if !self.retries.is_empty() => {
                let key = retry_key(ev);
                if self
                    .retries
                    .get(&key)
                    .is_some_and(|h| t >= h.time && t.saturating_sub(h.time) <= window)
                {
                    if let Some(held) = self.retries.remove(&key) {
                        let mut rest = Vec::new();
                        for (ri, at, a) in held.alerts {
                            match fresh.iter_mut().find(|(r, _)| *r == ri) {
                                Some((_, retry)) => {
                                    self.stats.retries_merged += 1;
                                    retry.related_audit_ids.push(a.audit_id.clone());
                                    retry.message.push_str(&format!(
                                        " (kubectl's SPDY retry after its WebSocket attempt failed with code {})",
                                        held.code
                                    ));
                                }
                                None => rest.push((ri, at, a)),
                            }
                        }
                        self.release_attempt(
                            HeldAttempt {
                                time: held.time,
                                code: held.code,
                                alerts: rest,
                            },
                            out,
                        );
                    }
                }
            }
            _ => {}
        }
        for (ri, a) in fresh {
            self.group(ri, a, t, out);
        }
    }

    /// Reports the held alerts of a WebSocket attempt (no retry came, or it raised other
    /// rules).
    fn release_attempt(&mut self, held: HeldAttempt, out: &mut Vec<Alert>) {
        for (ri, t, a) in held.alerts {
            self.group(ri, a, t, out);
        }
    }

    /// Releases held WebSocket attempts whose retry window ended before `now`.
    fn release_retries(&mut self, now: i64, out: &mut Vec<Alert>) {
        let window = self.opts.retry_window_micros;
        while let Some((t, _)) = self.retries_order.front() {
            if now != i64::MAX && t.saturating_add(window) >= now {
                break;
            }
            let Some((t, key)) = self.retries_order.pop_front() else {
                break;
            };
            // The entry may have been replaced by a later attempt with the same key.
            if self.retries.get(&key).is_some_and(|h| h.time == t) {
                if let Some(held) = self.retries.remove(&key) {
                    self.release_attempt(held, out);
                }
            }
        }
    }

    /// Passes an alert to grouping, reporting what comes out.
    fn group(&mut self, ri: u32, alert: Alert, t: i64, out: &mut Vec<Alert>) {
        let mut done = Vec::new();
        self.grouper
            .add(&self.rules[ri as usize], ri, alert, t, &mut done);
        self.report(done, out);
    }

    fn report(&mut self, alerts: Vec<Alert>, out: &mut Vec<Alert>) {
        self.stats.alerts += alerts.len() as u64;
        out.extend(alerts);
    }
}

/// Whether an output piece shows the request URI or body fields (masked in the
/// output view of the event).
fn needs_view(p: &Piece) -> bool {
    matches!(p, Piece::Field(_) | Piece::Special(Special::Uri))
}

/// The JSON texts of the `items` of a list document, when it has any.
fn list_items(text: &str) -> Option<Vec<&RawValue>> {
    #[derive(Deserialize)]
    struct Items<'a> {
        #[serde(borrow)]
        items: Vec<&'a RawValue>,
    }
    serde_json::from_str::<Items<'_>>(text)
        .ok()
        .map(|l| l.items)
}

/// Byte offset of `part` inside `whole`, when it is a slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let off = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (off + part.len() <= whole.len()).then_some(off)
}

fn leading_whitespace(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t', '\n', '\r']).len()
}

fn newlines(s: &str) -> u64 {
    s.bytes().filter(|&b| b == b'\n').count() as u64
}

/// The line each of `values` (slices of `text`, in order) starts on, `text`
/// starting on `line` (0: unknown).
fn value_lines(text: &str, values: &[&RawValue], line: u64) -> Vec<u64> {
    let mut counted = 0;
    let mut at = line;
    values
        .iter()
        .map(|v| {
            if line == 0 {
                return 0;
            }
            if let Some(off) = offset_in(text, v.get()).filter(|&o| o >= counted) {
                at += newlines(&text[counted..off]);
                counted = off;
            }
            at
        })
        .collect()
}

/// Whether a first line starts a single JSON document (a pretty-printed Event or
/// EventList) rather than JSON lines: it is not a complete JSON value.
fn is_single_document(first_line: &[u8]) -> bool {
    let t = first_line
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(first_line);
    let t = t.trim_ascii();
    !t.is_empty()
        && (t[0] == b'{' || t[0] == b'[')
        && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_err()
}

fn capped(s: &str) -> String {
    let mut s = s.to_string();
    truncate_field(&mut s, MAX_FIELD_BYTES);
    s
}

fn make_alert(
    rule: &Rule,
    severity: Severity,
    output: &[Piece],
    ctx: &Ctx<'_>,
    view: Option<&Event>,
    count: Option<u32>,
) -> Alert {
    let ev = ctx.ev;
    let object = ev
        .object_ref
        .as_ref()
        .map(|o| AlertObject {
            resource: o.resource.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            subresource: o.subresource.clone(),
            api_group: o.api_group.clone(),
        })
        .unwrap_or_default();
    let mut object = object;
    if object.name.is_empty() && ev.verb == "create" {
        // Objects created with generateName have no name in objectRef; take it
        // from the response (the generated name) or the request body.
        let from = |v: Option<&serde_json::Value>| {
            v.and_then(|o| o.get("metadata"))
                .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        if let Some(n) = from(ev.response_object()).or_else(|| from(ev.request_object())) {
            object.name = n;
        }
    }
    for part in [
        &mut object.resource,
        &mut object.namespace,
        &mut object.name,
        &mut object.subresource,
        &mut object.api_group,
    ] {
        truncate_field(part, MAX_FIELD_BYTES);
    }
    let shown = view.unwrap_or(ev);
    let shown_ctx = Ctx {
        ev: shown,
        source_outside: ctx.source_outside,
    };
    let mut msg = String::new();
    let mut piece = String::new();
    for p in output {
        piece.clear();
        match p {
            Piece::Text(t) => {
                msg.push_str(t);
                continue;
            }
            Piece::Field(path) => {
                let mut first = true;
                resolve(path, &shown_ctx, None, &mut |v| {
                    if !first {
                        piece.push(',');
                    }
                    first = false;
                    v.render(&mut piece);
                    false
                });
                if first {
                    piece.push_str("<none>");
                }
            }
            Piece::Special(s) => render_special(*s, shown, &object, rule, count, &mut piece),
        }
        truncate_field(&mut piece, MAX_FIELD_BYTES);
        msg.push_str(&piece);
    }
    let mut groups = ev.user.groups.clone();
    cap_list(&mut groups);
    let mut source_ips = ev.source_ips.clone();
    cap_list(&mut source_ips);
    Alert {
        time: capped(ev.time_str()),
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        severity,
        message: msg,
        user: capped(&ev.user.username),
        groups,
        impersonated_user: ev.impersonated_user.as_ref().map(|u| capped(&u.username)),
        source_ips,
        verb: capped(&ev.verb),
        object,
        code: ev.code(),
        mitre: rule.mitre.clone(),
        audit_id: capped(&ev.audit_id),
        count,
        group: None,
        related_audit_ids: Vec::new(),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "<none>"
    } else {
        s
    }
}

fn render_special(
    s: Special,
    ev: &Event,
    obj: &AlertObject,
    rule: &Rule,
    count: Option<u32>,
    msg: &mut String,
) {
    use std::fmt::Write;
    match s {
        Special::User => msg.push_str(or_none(&ev.user.username)),
        Special::Groups => msg.push_str(&ev.user.groups.join(",")),
        Special::Verb => msg.push_str(or_none(&ev.verb)),
        Special::Object => {
            let d = obj.display();
            msg.push_str(if d.is_empty() {
                or_none(ev.request_path())
            } else {
                &d
            });
        }
        Special::Resource => msg.push_str(or_none(&obj.resource)),
        Special::Namespace => msg.push_str(or_none(&obj.namespace)),
        Special::Name => msg.push_str(or_none(&obj.name)),
        Special::Subresource => msg.push_str(or_none(&obj.subresource)),
        Special::Code => match ev.code() {
            Some(c) => {
                let _ = write!(msg, "{c}");
            }
            None => msg.push_str("<none>"),
        },
        Special::Uri => msg.push_str(or_none(&ev.request_uri)),
        Special::SourceIp => msg.push_str(or_none(
            ev.source_ips.first().map(String::as_str).unwrap_or(""),
        )),
        Special::Impersonated => msg.push_str(or_none(
            ev.impersonated_user
                .as_ref()
                .map(|u| u.username.as_str())
                .unwrap_or(""),
        )),
        Special::UserAgent => msg.push_str(or_none(&ev.user_agent)),
        Special::Count => {
            let _ = write!(msg, "{}", count.unwrap_or(1));
        }
        Special::Window => {
            let w = rule
                .threshold
                .map(|t| t.window_micros / 1_000_000)
                .unwrap_or(0);
            let _ = write!(msg, "{w}s");
        }
        Special::Reason => msg.push_str(or_none(
            ev.response_status
                .as_ref()
                .map(|r| r.reason.as_str())
                .unwrap_or(""),
        )),
        Special::Message => msg.push_str(or_none(
            ev.response_status
                .as_ref()
                .map(|r| r.message.as_str())
                .unwrap_or(""),
        )),
        Special::AuditId => msg.push_str(or_none(&ev.audit_id)),
        Special::Time => msg.push_str(or_none(ev.time_str())),
    }
}
