//! Grouping of repeated alerts: the same rule raised for the same subject (and, when the
//! rule asks for it, the same namespace) within a window becomes one alert and one summary
//! (or, when the first alert is held, one alert) carrying a count, the first and last time and
//! a sample of the distinct objects.
//!
//! A group opens with its first alert and closes when its window has passed in event time
//! (an event later than the first alert's time plus the window), or when the detector is
//! flushed or ticked past it. Threshold rules are not grouped: they aggregate already.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use crate::alert::{Alert, AlertGroup, AlertObject};
use crate::redact::{truncate_field, MAX_FIELD_BYTES};
use crate::rules::Rule;

/// Most distinct objects counted per group (`distinctObjects` stops there).
const MAX_DISTINCT: usize = 1000;

/// Grouping settings (the default: a 60 s window, the first alert reported at once, five
/// sample objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOptions {
    /// The window, in microseconds of event time, from a group's first alert; 0 turns
    /// grouping off. A rule can set its own (`group: { window: 5m }`).
    pub window_micros: i64,
    /// Report the first alert of a group as soon as it is raised and, if more followed, a
    /// summary of them when the window closes (the default, for `--follow` and the audit
    /// webhook: an alert is never delayed). When false, the first alert is held too and each
    /// group is reported once, when it closes: one alert with the count of the whole group
    /// (for reading a finished log).
    pub report_first: bool,
    /// Distinct objects kept as a sample in a summary.
    pub max_sample: usize,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            window_micros: 60_000_000,
            report_first: true,
            max_sample: 5,
        }
    }
}

impl GroupOptions {
    /// No grouping: every alert is reported on its own.
    pub fn off() -> GroupOptions {
        GroupOptions {
            window_micros: 0,
            ..GroupOptions::default()
        }
    }
}

/// Rule index, user, impersonated user, namespace (empty unless the rule groups by it).
type Key = (u32, String, String, String);

struct Group {
    seq: u64,
    window_micros: i64,
    total: u32,
    reported: u32,
    first_time: String,
    first_audit_id: String,
    /// The first alert, while it is held (`report_first` off).
    held: Option<Alert>,
    /// The latest alert folded into the group.
    last: Option<Alert>,
    seen: HashSet<u64>,
    sample: Vec<AlertObject>,
}

impl Group {
    fn note_object(&mut self, o: &AlertObject, max_sample: usize) {
        if self.seen.len() >= MAX_DISTINCT {
            return;
        }
        let mut h = DefaultHasher::new();
        o.hash(&mut h);
        if self.seen.insert(h.finish()) && self.sample.len() < max_sample {
            self.sample.push(o.clone());
        }
    }
}

/// Open groups, bounded by `max_open`.
pub(crate) struct Grouper {
    opts: GroupOptions,
    max_open: usize,
    groups: HashMap<Key, Group>,
    /// (deadline, seq) -> key, to close groups in deadline order.
    order: BTreeMap<(i64, u64), Key>,
    seq: u64,
    /// Alerts folded into a summary instead of being reported on their own.
    pub(crate) folded: u64,
}

impl Grouper {
    pub(crate) fn new(opts: GroupOptions, max_open: usize) -> Grouper {
        Grouper {
            opts,
            max_open,
            groups: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
            folded: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// The window for `rule`, or `None` when its alerts are not grouped.
    fn window(&self, rule: &Rule) -> Option<i64> {
        if !rule.group.enabled || rule.threshold.is_some() {
            return None;
        }
        let w = rule.group.window_micros.unwrap_or(self.opts.window_micros);
        (w > 0).then_some(w)
    }

    /// Takes an alert of rule `ri` raised at event time `t`: reports it at once (`out`),
    /// holds it, or folds it into its open group.
    pub(crate) fn add(&mut self, rule: &Rule, ri: u32, alert: Alert, t: i64, out: &mut Vec<Alert>) {
        let Some(window) = self.window(rule) else {
            out.push(alert);
            return;
        };
        let ns = if rule.group.by_namespace {
            alert.object.namespace.clone()
        } else {
            String::new()
        };
        let key: Key = (
            ri,
            alert.user.clone(),
            alert.impersonated_user.clone().unwrap_or_default(),
            ns,
        );
        let max_sample = self.opts.max_sample;
        if let Some(g) = self.groups.get_mut(&key) {
            g.total = g.total.saturating_add(1);
            g.note_object(&alert.object, max_sample);
            g.last = Some(alert);
            self.folded += 1;
            return;
        }
        if self.groups.len() >= self.max_open {
            // No room to remember a group: the alert is reported on its own, never lost.
            out.push(alert);
            return;
        }
        self.seq += 1;
        let deadline = t.saturating_add(window);
        let mut g = Group {
            seq: self.seq,
            window_micros: window,
            total: 1,
            reported: 0,
            first_time: alert.time.clone(),
            first_audit_id: alert.audit_id.clone(),
            held: None,
            last: None,
            seen: HashSet::new(),
            sample: Vec::new(),
        };
        g.note_object(&alert.object, max_sample);
        if self.opts.report_first {
            g.reported = 1;
            out.push(alert);
        } else {
            g.held = Some(alert);
        }
        self.order.insert((deadline, g.seq), key.clone());
        self.groups.insert(key, g);
    }

    /// Closes the groups whose window ended before `now`, reporting their summaries.
    pub(crate) fn close_due(&mut self, now: i64, out: &mut Vec<Alert>) {
        while let Some((&(deadline, seq), _)) = self.order.first_key_value() {
            if deadline >= now {
                break;
            }
            if let Some(key) = self.order.remove(&(deadline, seq)) {
                if let Some(g) = self.groups.remove(&key) {
                    close(g, out);
                }
            }
        }
    }

    /// Closes every open group (end of input).
    pub(crate) fn close_all(&mut self, out: &mut Vec<Alert>) {
        self.close_due(i64::MAX, out);
        // Groups whose deadline is i64::MAX (saturated) are left: close them too.
        let rest: Vec<Key> = self.order.values().cloned().collect();
        self.order.clear();
        for key in rest {
            if let Some(g) = self.groups.remove(&key) {
                close(g, out);
            }
        }
    }
}

fn window_text(micros: i64) -> String {
    if micros % 1_000_000 == 0 {
        format!("{}s", micros / 1_000_000)
    } else {
        format!("{}ms", micros / 1_000)
    }
}

/// Reports what a closing group still owes: nothing (only its first alert, already
/// reported), its one held alert as it was, or a summary.
fn close(g: Group, out: &mut Vec<Alert>) {
    if g.total <= g.reported {
        return;
    }
    let (Some(mut summary), held) = (g.last.or_else(|| g.held.clone()), g.held.is_some()) else {
        return;
    };
    if g.total == 1 && held {
        out.push(summary);
        return;
    }
    let window = window_text(g.window_micros);
    let objects: Vec<String> = g.sample.iter().map(AlertObject::display).collect();
    let distinct = g.seen.len() as u32;
    let more = if distinct as usize > objects.len() {
        format!(", and {} more", distinct as usize - objects.len())
    } else {
        String::new()
    };
    let already = if g.reported > 0 {
        " (the first reported on its own)"
    } else {
        ""
    };
    let mut last = std::mem::take(&mut summary.message);
    truncate_field(&mut last, MAX_FIELD_BYTES);
    summary.message = format!(
        "{} {} alerts for {} within {window}, from {} to {}{already}; {distinct} distinct objects: {}{more}; last: {last}",
        g.total,
        summary.rule_name,
        summary.user,
        g.first_time,
        summary.time,
        objects.join(", "),
    );
    summary.count = Some(g.total - g.reported);
    summary.group = Some(AlertGroup {
        total: g.total,
        reported: g.reported,
        first_time: g.first_time,
        last_time: summary.time.clone(),
        first_audit_id: g.first_audit_id,
        window,
        distinct_objects: distinct,
        sample_objects: g.sample,
    });
    out.push(summary);
}
