//! The Kubernetes audit event model (`audit.k8s.io/v1`, tolerant of `v1beta1`).
//!
//! Request and response bodies are kept as raw JSON text and parsed into a
//! [`serde_json::Value`] only when a rule asks for them (see
//! [`Event::request_object`]). Bodies that may hold Secret values or tokens are parsed when
//! the event is read, and those values dropped (see [`crate::scrub`]): no rule, alert or
//! output ever sees them.

use std::cell::OnceCell;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::input::json_error_reason;
use crate::redact::{percent_decode, redact_json, redact_message, redact_uri};
use crate::scrub::{needs_scrub, scrub_body, BodyContext};

fn nd<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A user identity as recorded in an audit event (`user` or `impersonatedUser`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    /// User name, e.g. `alice` or `system:serviceaccount:ci:runner`.
    #[serde(deserialize_with = "nd")]
    pub username: String,
    /// User UID, when the authenticator sets one.
    #[serde(deserialize_with = "nd")]
    pub uid: String,
    /// Groups the user belongs to.
    #[serde(deserialize_with = "nd")]
    pub groups: Vec<String>,
    /// Extra authenticator attributes.
    pub extra: Option<Value>,
}

/// The object a request targets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectRef {
    /// Resource (plural), e.g. `pods`.
    #[serde(deserialize_with = "nd")]
    pub resource: String,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(deserialize_with = "nd")]
    pub namespace: String,
    /// Object name (empty for collection requests such as `list` or `create`).
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// API group (empty for the core group).
    #[serde(deserialize_with = "nd")]
    pub api_group: String,
    /// API version.
    #[serde(deserialize_with = "nd")]
    pub api_version: String,
    /// Subresource, e.g. `exec`, `token`, `approval`.
    #[serde(deserialize_with = "nd")]
    pub subresource: String,
}

/// The HTTP status of the response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponseStatus {
    /// HTTP status code (0 when absent).
    #[serde(deserialize_with = "nd")]
    pub code: i64,
    /// Machine-readable reason, e.g. `Forbidden`.
    #[serde(deserialize_with = "nd")]
    pub reason: String,
    /// Human-readable message.
    #[serde(deserialize_with = "nd")]
    pub message: String,
    /// `Success` or `Failure`.
    #[serde(deserialize_with = "nd")]
    pub status: String,
}

/// An `EventList` item that could not be read as an audit event (a field of the wrong
/// type, for instance). The other items of the list are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// 0-based index of the item in `items`.
    pub index: usize,
    /// 1-based line, within the item's own text, where reading stopped.
    pub line: usize,
    /// Why (without the values of the input).
    pub message: String,
}

/// One audit event.
///
/// Unknown fields are ignored; every field is optional. `requestObject` and
/// `responseObject` are kept raw and parsed lazily, except that Secret values and tokens are
/// dropped from them when the event is read.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Wire")]
pub struct Event {
    /// `Event` or `EventList` (or absent in some old captures).
    pub kind: Option<Value>,
    /// `audit.k8s.io/v1`, `audit.k8s.io/v1beta1` or absent.
    pub api_version: String,
    /// Audit level (`Metadata`, `Request`, `RequestResponse`).
    pub level: String,
    /// Unique id of the request; shared by all stages of one request.
    pub audit_id: String,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    pub stage: String,
    /// Request URI including the query string.
    pub request_uri: String,
    /// Kubernetes verb (`get`, `list`, `create`, ...).
    pub verb: String,
    /// Authenticated user.
    pub user: UserInfo,
    /// User being impersonated, if any.
    pub impersonated_user: Option<UserInfo>,
    /// Source IPs, client first.
    pub source_ips: Vec<String>,
    /// User agent string.
    pub user_agent: String,
    /// Target object.
    pub object_ref: Option<ObjectRef>,
    /// Response status (absent for `RequestReceived`).
    pub response_status: Option<ResponseStatus>,
    /// Raw request body (present at `Request`/`RequestResponse` levels), Secret values
    /// dropped.
    pub request_object: Option<Box<RawValue>>,
    /// Raw response body (present at `RequestResponse` level), Secret values dropped.
    pub response_object: Option<Box<RawValue>>,
    /// Time the request reached the API server (RFC 3339).
    pub request_received_timestamp: String,
    /// Time of this stage (RFC 3339).
    pub stage_timestamp: String,
    /// Raw audit annotations (authorization decision, Pod Security, ...); see
    /// [`Event::annotations`].
    pub annotations_raw: Option<Box<RawValue>>,
    /// The events of an `EventList` (only set on list documents); items that are not audit
    /// events are left out and described in [`Event::item_errors`].
    pub items: Option<Vec<Event>>,
    /// The `EventList` items that could not be read.
    pub item_errors: Vec<ItemError>,
    scrubbed: bool,
    req_cache: OnceCell<Value>,
    resp_cache: OnceCell<Value>,
    ann_cache: OnceCell<Value>,
}

/// The wire form of [`Event`].
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "an audit event object")]
struct Wire {
    kind: Option<Value>,
    #[serde(deserialize_with = "nd")]
    api_version: String,
    #[serde(deserialize_with = "nd")]
    level: String,
    #[serde(rename = "auditID")]
    #[serde(deserialize_with = "nd")]
    audit_id: String,
    #[serde(deserialize_with = "nd")]
    stage: String,
    #[serde(rename = "requestURI")]
    #[serde(deserialize_with = "nd")]
    request_uri: String,
    #[serde(deserialize_with = "nd")]
    verb: String,
    user: UserInfo,
    impersonated_user: Option<UserInfo>,
    #[serde(rename = "sourceIPs")]
    #[serde(deserialize_with = "nd")]
    source_ips: Vec<String>,
    #[serde(deserialize_with = "nd")]
    user_agent: String,
    object_ref: Option<ObjectRef>,
    response_status: Option<ResponseStatus>,
    request_object: Option<Box<RawValue>>,
    response_object: Option<Box<RawValue>>,
    #[serde(deserialize_with = "nd")]
    request_received_timestamp: String,
    #[serde(deserialize_with = "nd")]
    stage_timestamp: String,
    #[serde(rename = "annotations")]
    annotations_raw: Option<Box<RawValue>>,
    items: Option<Items>,
}

/// `EventList` items, read one by one so that a bad item does not lose the others.
#[derive(Default)]
struct Items {
    events: Vec<Event>,
    errors: Vec<ItemError>,
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Items, D::Error> {
        struct ItemsVisitor;
        impl<'de> Visitor<'de> for ItemsVisitor {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of audit events")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut items = Items::default();
                let mut index = 0;
                while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                    match serde_json::from_str::<Event>(raw.get()) {
                        Ok(ev) => items.events.push(ev),
                        Err(e) => items.errors.push(ItemError {
                            index,
                            line: e.line(),
                            message: json_error_reason(&e),
                        }),
                    }
                    index += 1;
                }
                Ok(items)
            }
        }
        d.deserialize_seq(ItemsVisitor)
    }
}

impl From<Wire> for Event {
    fn from(w: Wire) -> Event {
        let (items, item_errors) = match w.items {
            Some(i) => (Some(i.events), i.errors),
            None => (None, Vec::new()),
        };
        let mut ev = Event {
            kind: w.kind,
            api_version: w.api_version,
            level: w.level,
            audit_id: w.audit_id,
            stage: w.stage,
            request_uri: w.request_uri,
            verb: w.verb,
            user: w.user,
            impersonated_user: w.impersonated_user,
            source_ips: w.source_ips,
            user_agent: w.user_agent,
            object_ref: w.object_ref,
            response_status: w.response_status,
            request_object: w.request_object,
            response_object: w.response_object,
            request_received_timestamp: w.request_received_timestamp,
            stage_timestamp: w.stage_timestamp,
            annotations_raw: w.annotations_raw,
            items,
            item_errors,
            ..Event::default()
        };
        ev.scrub_bodies();
        ev
    }
}

/// Drops secret values from one raw body, leaving the parsed result in `cache`.
fn scrub_raw(raw: &mut Option<Box<RawValue>>, cache: &mut OnceCell<Value>, ctx: BodyContext) {
    let Some(text) = raw.as_ref().map(|r| r.get()) else {
        return;
    };
    if !needs_scrub(text, ctx) {
        return;
    }
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        *raw = None;
        *cache = OnceCell::new();
        return;
    };
    if scrub_body(&mut v, ctx) {
        *raw = serde_json::to_string(&v)
            .ok()
            .and_then(|s| RawValue::from_string(s).ok());
    }
    *cache = OnceCell::from(v);
}

fn lazy<'a>(raw: &Option<Box<RawValue>>, cell: &'a OnceCell<Value>) -> Option<&'a Value> {
    let v = match cell.get() {
        Some(v) => v,
        None => {
            let raw = raw.as_ref()?;
            cell.get_or_init(|| serde_json::from_str(raw.get()).unwrap_or(Value::Null))
        }
    };
    if v.is_null() {
        None
    } else {
        Some(v)
    }
}

impl Event {
    /// Parses one event (or an `EventList`) from JSON text.
    pub fn from_json(text: &str) -> serde_json::Result<Event> {
        serde_json::from_str(text)
    }

    /// Drops Secret values and tokens from the request and response bodies (done when an
    /// event is read; again only for events built otherwise).
    pub(crate) fn scrub_bodies(&mut self) {
        if self.scrubbed {
            return;
        }
        self.scrubbed = true;
        let ctx = match &self.object_ref {
            Some(o) => BodyContext {
                secrets: o.resource == "secrets",
                tokens: o.subresource == "token" || o.resource == "tokenreviews",
            },
            None => BodyContext::default(),
        };
        scrub_raw(&mut self.request_object, &mut self.req_cache, ctx);
        scrub_raw(&mut self.response_object, &mut self.resp_cache, ctx);
    }

    /// A copy of the event for rendering alert text: the request URI, the bodies, the
    /// response status message (which can quote a kubelet URL with the exec command) and
    /// `user.extra` with credentials masked (see [`crate::redact`]).
    pub(crate) fn output_view(&self) -> Event {
        let masked = |v: Option<&Value>| {
            let mut c = v.cloned().unwrap_or(Value::Null);
            redact_json(&mut c, None);
            OnceCell::from(c)
        };
        let mut user = self.user.clone();
        if let Some(extra) = user.extra.as_mut() {
            redact_json(extra, None);
        }
        Event {
            kind: self.kind.clone(),
            api_version: self.api_version.clone(),
            level: self.level.clone(),
            audit_id: self.audit_id.clone(),
            stage: self.stage.clone(),
            request_uri: redact_uri(&self.request_uri).into_owned(),
            verb: self.verb.clone(),
            user,
            impersonated_user: self.impersonated_user.clone(),
            source_ips: self.source_ips.clone(),
            user_agent: self.user_agent.clone(),
            object_ref: self.object_ref.clone(),
            response_status: self.response_status.clone().map(|mut st| {
                if let Some(m) = redact_message(&st.message) {
                    st.message = m;
                }
                if let Some(r) = redact_message(&st.reason) {
                    st.reason = r;
                }
                st
            }),
            request_object: None,
            response_object: None,
            request_received_timestamp: self.request_received_timestamp.clone(),
            stage_timestamp: self.stage_timestamp.clone(),
            annotations_raw: self.annotations_raw.clone(),
            items: None,
            item_errors: Vec::new(),
            scrubbed: true,
            req_cache: masked(self.request_object()),
            resp_cache: masked(self.response_object()),
            ann_cache: OnceCell::new(),
        }
    }

    /// The request body, parsed on first use (`None` when absent or `null`).
    pub fn request_object(&self) -> Option<&Value> {
        lazy(&self.request_object, &self.req_cache)
    }

    /// The response body, parsed on first use (`None` when absent or `null`).
    pub fn response_object(&self) -> Option<&Value> {
        lazy(&self.response_object, &self.resp_cache)
    }

    /// The audit annotations, parsed on first use.
    pub fn annotations(&self) -> Option<&serde_json::Map<String, Value>> {
        lazy(&self.annotations_raw, &self.ann_cache).and_then(Value::as_object)
    }

    /// One annotation value as a string.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations()?.get(key)?.as_str()
    }

    /// The `kind` field as a string, when it is one.
    pub fn kind_str(&self) -> Option<&str> {
        self.kind.as_ref().and_then(Value::as_str)
    }

    /// Whether this document is an `EventList`.
    pub fn is_list(&self) -> bool {
        self.kind_str() == Some("EventList") || self.items.is_some()
    }

    /// Whether this document looks like an audit event (and not some other JSON).
    ///
    /// `kind` must be `Event` or absent; an absent kind additionally needs a
    /// verb or an audit id. The `apiVersion`, when present, must be an
    /// `audit.k8s.io` version.
    pub fn is_event(&self) -> bool {
        if !self.api_version.is_empty() && !self.api_version.starts_with("audit.k8s.io/") {
            return false;
        }
        match &self.kind {
            Some(Value::String(k)) => k == "Event",
            None => !self.verb.is_empty() || !self.audit_id.is_empty(),
            Some(_) => false,
        }
    }

    /// HTTP status code, if the event has a response status with a code.
    pub fn code(&self) -> Option<i64> {
        self.response_status
            .as_ref()
            .map(|s| s.code)
            .filter(|c| *c != 0)
    }

    /// True when the request did not fail: no status code yet, or a code below 400.
    pub fn success(&self) -> bool {
        self.code().is_none_or(|c| c < 400)
    }

    /// The request path without the query string.
    pub fn request_path(&self) -> &str {
        match self.request_uri.find('?') {
            Some(i) => &self.request_uri[..i],
            None => &self.request_uri,
        }
    }

    /// True when the request was a server-side dry run, which changes nothing.
    ///
    /// The audit event has no field for it (kubernetes/kubernetes#117988); what the API
    /// server went by is in the request:
    ///
    /// * create, update and patch read `dryRun` from the query only: `dryRun=All` there
    ///   (key and value percent-decoded, the value exactly `All`, the only value the API
    ///   server accepts) is a dry run;
    /// * delete and deletecollection read their `DeleteOptions` from the body when one is
    ///   sent, and then ignore the query. A recorded body (audit level `Request` and above)
    ///   decides by its `dryRun`. Without one, the query decides only at level `Request` or
    ///   `RequestResponse`, where a body would have been recorded; at `Metadata` level (or
    ///   with no level) a delete is never taken for a dry run, so that `?dryRun=All` next to
    ///   a body without it cannot hide a real deletion. kubectl sends `--dry-run=server`
    ///   deletes as a body, so at `Metadata` level they look like deletions;
    /// * an eviction (`pods/eviction`) is a dry run when its query or its body's
    ///   `deleteOptions` say so (the API server merges the two).
    pub fn dry_run(&self) -> bool {
        let query = query_dry_run(&self.request_uri);
        match self.verb.as_str() {
            "delete" | "deletecollection" => match self.request_object() {
                Some(body) => options_dry_run(body, "DeleteOptions"),
                None => query && matches!(self.level.as_str(), "Request" | "RequestResponse"),
            },
            _ => {
                query
                    || (self
                        .object_ref
                        .as_ref()
                        .is_some_and(|o| o.subresource == "eviction")
                        && self
                            .request_object()
                            .and_then(|b| b.get("deleteOptions"))
                            .is_some_and(|o| options_dry_run(o, "DeleteOptions")))
            }
        }
    }

    /// Who refused the request, if it was refused by a policy decision:
    ///
    /// * `"authorization"`: an authorizer (RBAC, Node, a webhook authorizer) said no: code
    ///   403 with the audit annotation `authorization.k8s.io/decision: forbid`. When the
    ///   event has no decision annotation at all (stripped or very old logs), a 403 whose
    ///   message is the authorizer's (`... is forbidden: User "..." cannot ...`) or empty.
    /// * `"admission"`: the request was authorized, then rejected by an admission plugin,
    ///   webhook or policy: a status of 400 or more whose message is a webhook denial
    ///   (`admission webhook "..." denied the request`, `failed calling webhook`), Pod
    ///   Security (`violates PodSecurity`), a ValidatingAdmissionPolicy, a quota, a
    ///   terminating namespace, or another authorized 403 `... is forbidden: ...`
    ///   (RBAC escalation prevention, `attempting to grant RBAC permissions not currently
    ///   held`, is neither).
    ///
    /// `None` for requests that succeeded or failed otherwise (not found, conflict, the
    /// kubelet unreachable...).
    pub fn refused_by(&self) -> Option<&'static str> {
        const AUTHORIZER: &[&str] = &["forbidden: User \""];
        const ADMISSION: &[&str] = &[
            "admission webhook \"",
            "failed calling webhook \"",
            "violates PodSecurity",
            "ValidatingAdmissionPolicy '",
            "exceeded quota",
            "unable to create new content in namespace",
        ];
        let code = self.code()?;
        if code < 400 {
            return None;
        }
        let msg = self
            .response_status
            .as_ref()
            .map(|s| s.message.as_str())
            .unwrap_or("");
        let decision = self.annotation("authorization.k8s.io/decision");
        if code == 403 {
            match decision {
                Some("forbid") => return Some("authorization"),
                None if msg.is_empty() || AUTHORIZER.iter().any(|p| msg.contains(p)) => {
                    return Some("authorization")
                }
                _ => {}
            }
        }
        if decision == Some("forbid") {
            return None;
        }
        let admission = ADMISSION.iter().any(|p| msg.contains(p))
            || (code == 403
                && msg.contains(" is forbidden: ")
                && !msg.contains("attempting to grant RBAC permissions"));
        admission.then_some("admission")
    }

    /// The event time (stage timestamp, else request timestamp) in microseconds since
    /// the Unix epoch.
    pub fn time_micros(&self) -> Option<i64> {
        parse_rfc3339_micros(&self.stage_timestamp)
            .or_else(|| parse_rfc3339_micros(&self.request_received_timestamp))
    }

    /// The event time as text (stage timestamp, else request timestamp).
    pub fn time_str(&self) -> &str {
        if self.stage_timestamp.is_empty() {
            &self.request_received_timestamp
        } else {
            &self.stage_timestamp
        }
    }

    /// The Pod spec carried by the request body: `spec` of a Pod, `spec.template.spec`
    /// of a workload, `spec.jobTemplate.spec.template.spec` of a CronJob.
    pub fn pod_spec(&self) -> Option<&Value> {
        let obj = self.request_object()?;
        let spec = obj.get("spec")?;
        if let Some(t) = spec.get("template").and_then(|t| t.get("spec")) {
            return Some(t);
        }
        if let Some(t) = spec
            .get("jobTemplate")
            .and_then(|j| j.get("spec"))
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
        {
            return Some(t);
        }
        if self
            .object_ref
            .as_ref()
            .is_some_and(|o| o.resource == "pods" && o.subresource.is_empty())
            || obj.get("kind").and_then(Value::as_str) == Some("Pod")
        {
            return Some(spec);
        }
        None
    }
}

/// Whether a request query has `dryRun=All` (keys and values percent-decoded, as the API
/// server reads them; pairs holding `;` are dropped, as Go's `url.ParseQuery` drops them).
fn query_dry_run(uri: &str) -> bool {
    let Some(i) = uri.find('?') else {
        return false;
    };
    let query = uri[i + 1..].split('#').next().unwrap_or("");
    query.split('&').any(|kv| {
        if kv.contains(';') {
            return false;
        }
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        percent_decode(k) == "dryRun" && percent_decode(v) == "All"
    })
}

/// Whether options of `kind` (or without a kind) in a request body ask for a dry run.
fn options_dry_run(options: &Value, kind: &str) -> bool {
    let kind_ok = match options.get("kind") {
        None | Some(Value::Null) => true,
        Some(k) => k.as_str() == Some(kind),
    };
    kind_ok
        && options
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("All")))
}

/// Parses an RFC 3339 UTC or offset timestamp into microseconds since the epoch.
pub fn parse_rfc3339_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b't' && b[10] != b' ')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut micros = 0i64;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let mut digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if digits < 6 {
                micros = micros * 10 + i64::from(b[i] - b'0');
                digits += 1;
            }
            i += 1;
        }
        while digits < 6 {
            micros *= 10;
            digits += 1;
        }
    }
    let mut offset = 0i64;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' => {}
            b'+' | b'-' if b.len() >= i + 6 => {
                let sign = if b[i] == b'+' { 1 } else { -1 };
                offset = sign * (num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60);
            }
            _ => return None,
        }
    }
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_micros("1970-01-01T00:00:01.5Z"),
            Some(1_500_000)
        );
        assert_eq!(
            parse_rfc3339_micros("2026-11-23T15:21:36.175072Z"),
            Some(1_795_447_296_175_072)
        );
        assert_eq!(parse_rfc3339_micros("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339_micros("garbage"), None);
    }

    #[test]
    fn lenient_event() {
        let e = Event::from_json(r#"{"verb":"get","user":{"username":"a"},"x":1}"#).unwrap();
        assert!(e.is_event());
        assert!(e.success());
        let e = Event::from_json(r#"{"kind":"Event","apiVersion":"v1","verb":"get"}"#).unwrap();
        assert!(!e.is_event());
        let e = Event::from_json(
            r#"{"kind":"Event","requestURI":"/api/v1/pods?dryRun=All&x=1","requestObject":null}"#,
        )
        .unwrap();
        assert!(e.dry_run());
        assert_eq!(e.request_path(), "/api/v1/pods");
        assert!(e.request_object().is_none());
    }
}
