//! The streaming detector: feed it lines or documents, get alerts back.
//!
//! State is bounded: the per-request stage de-duplication table, held
//! `RequestReceived` events and threshold buckets are all pruned by event time
//! and capped in size.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::alert::{Alert, AlertObject};
use crate::event::Event;
use crate::expr::{resolve, Ctx};
use crate::rules::{Piece, Rule, RuleSet, Special, ThresholdKey};

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
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            allowed_source_ranges: Vec::new(),
            request_received_grace_micros: 5_000_000,
            dedup_window_micros: 600_000_000,
            max_state_entries: 100_000,
        }
    }
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Audit events evaluated (list items count individually).
    pub events: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Input that was not JSON.
    pub bad_lines: u64,
    /// JSON that was not an audit event.
    pub non_events: u64,
}

struct Bucket {
    times: VecDeque<i64>,
    quiet_until: i64,
    last: i64,
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
        let needs_source = rules.iter().any(|r| r.condition.uses_source_ranges());
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
            opts,
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
        }
    }

    /// The active (enabled) rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of entries currently held in windowed state (remembered audit ids,
    /// held `RequestReceived` events, threshold buckets). Bounded by
    /// [`DetectorOptions::max_state_entries`] per kind and pruned by event time.
    pub fn state_entries(&self) -> usize {
        self.seen.len() + self.pending.len() + self.buckets.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
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
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            return;
        }
        match serde_json::from_str::<Event>(line) {
            Ok(ev) => self.handle_doc(ev, out),
            Err(_) => self.count_bad(line.as_bytes()),
        }
    }

    /// Feeds a whole document: one event, an `EventList`, several concatenated
    /// JSON values, or JSON lines. Unparseable parts are counted line by line.
    pub fn feed_document(&mut self, doc: &[u8]) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut stream = serde_json::Deserializer::from_slice(doc).into_iter::<Event>();
        let mut offset = 0;
        loop {
            match stream.next() {
                None => break,
                Some(Ok(ev)) => {
                    offset = stream.byte_offset();
                    self.handle_doc(ev, &mut out);
                }
                Some(Err(_)) => {
                    // Fall back to line-by-line for the rest.
                    let rest = String::from_utf8_lossy(&doc[offset..]);
                    for line in rest.lines() {
                        self.feed_line_into(line, &mut out);
                    }
                    break;
                }
            }
        }
        out
    }

    /// Evaluates held `RequestReceived` events that never saw a later stage.
    /// Call at the end of input.
    pub fn flush(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        let held: Vec<(i64, String)> = self.pending_order.drain(..).collect();
        for (_, id) in held {
            if let Some(ev) = self.pending.remove(&id) {
                self.evaluate(&ev, &mut out);
            }
        }
        out
    }

    fn count_bad(&mut self, bytes: &[u8]) {
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            self.stats.non_events += 1;
        } else {
            self.stats.bad_lines += 1;
        }
    }

    fn handle_doc(&mut self, ev: Event, out: &mut Vec<Alert>) {
        if ev.is_list() {
            for item in ev.items.unwrap_or_default() {
                self.handle_doc(item, out);
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

    fn feed_event_into(&mut self, ev: Event, out: &mut Vec<Alert>) {
        self.stats.events += 1;
        if let Some(t) = ev.time_micros() {
            if t > self.now {
                self.now = t;
            }
        }
        self.release_pending(out);
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
            out.push(make_alert(rule, &ctx, count));
            self.stats.alerts += 1;
        }
    }
}

fn make_alert(rule: &Rule, ctx: &Ctx<'_>, count: Option<u32>) -> Alert {
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
    let mut msg = String::new();
    for p in &rule.output {
        match p {
            Piece::Text(t) => msg.push_str(t),
            Piece::Field(path) => {
                let mut first = true;
                resolve(path, ctx, None, &mut |v| {
                    if !first {
                        msg.push(',');
                    }
                    first = false;
                    v.render(&mut msg);
                    false
                });
                if first {
                    msg.push_str("<none>");
                }
            }
            Piece::Special(s) => render_special(*s, ev, &object, rule, count, &mut msg),
        }
    }
    Alert {
        time: ev.time_str().to_string(),
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        severity: rule.severity,
        message: msg,
        user: ev.user.username.clone(),
        groups: ev.user.groups.clone(),
        impersonated_user: ev.impersonated_user.as_ref().map(|u| u.username.clone()),
        source_ips: ev.source_ips.clone(),
        verb: ev.verb.clone(),
        object,
        code: ev.code(),
        mitre: rule.mitre.clone(),
        audit_id: ev.audit_id.clone(),
        count,
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
