//! Finding, reading and validating `palisade.yaml`.

use anyhow::Context as _;
use palisade_core::{Policy, PolicyError};
use std::path::{Path, PathBuf};

/// The file looked for in the working directory when `--config` is not given.
pub(crate) const DEFAULT_FILE: &str = "palisade.yaml";

/// Largest configuration file read (a policy with thousands of exceptions is far smaller).
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Today in the system time zone: the date exceptions expire by.
pub(crate) fn today() -> jiff::civil::Date {
    jiff::tz::TimeZone::system()
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// Loads the policy: the given file, else `palisade.yaml` in the working directory, else the
/// default policy. Every problem in the file is returned at once.
pub(crate) fn load(explicit: Option<&Path>) -> anyhow::Result<Result<Policy, Vec<PolicyError>>> {
    load_with(explicit, &[])
}

/// The configuration file in use: the given one, else `palisade.yaml` when present.
fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None if Path::new(DEFAULT_FILE).is_file() => Some(PathBuf::from(DEFAULT_FILE)),
        None => None,
    }
}

/// The configuration's `policies:` list, resolved relative to the configuration file's
/// directory. A file that cannot be read or parsed yields none here: [`load_with`] reports it.
pub(crate) fn policy_paths(explicit: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let Some(path) = config_path(explicit) else {
        return Ok(Vec::new());
    };
    let Ok(bytes) = palisade_load::read_file_bounded(&path, MAX_CONFIG_BYTES) else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&bytes);
    let Ok(docs) = palisade_load::yaml::parse_documents(&text, 1, true) else {
        return Ok(Vec::new());
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let list = docs
        .first()
        .and_then(|d| d.value.get("policies"))
        .map(|v| match v {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .map(str::to_owned)
                .collect(),
            serde_json::Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .unwrap_or_default();
    Ok(list.into_iter().map(|p| base.join(p)).collect())
}

/// [`load`], validating rule ids and selectors against the catalogue and these rules loaded
/// at run time (Gatekeeper constraints), which the configuration may name too.
pub(crate) fn load_with(
    explicit: Option<&Path>,
    extra: &[&'static palisade_core::RuleMeta],
) -> anyhow::Result<Result<Policy, Vec<PolicyError>>> {
    let Some(path) = config_path(explicit) else {
        return Ok(Ok(Policy::default()));
    };
    let name = path.display().to_string();
    let bytes = palisade_load::read_file_bounded(&path, MAX_CONFIG_BYTES)
        .with_context(|| format!("cannot read configuration {name}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("configuration {name} is not UTF-8 text ({e})"))?;
    let docs = match palisade_load::yaml::parse_documents(&text, 1, true) {
        Ok(d) => d,
        Err(e) => {
            return Ok(Err(vec![PolicyError {
                file: name,
                line: e.line,
                column: e.column,
                message: format!("invalid YAML: {}", e.reason),
            }]))
        }
    };
    if let Some(doc) = docs.first() {
        if !doc.duplicate_keys.is_empty() {
            // A key written twice says two things; the policy cannot guess which is meant.
            return Ok(Err(doc
                .duplicate_keys
                .iter()
                .map(|d| PolicyError {
                    file: name.clone(),
                    line: d.line,
                    column: d.column,
                    message: format!("duplicate key `{}`", d.key),
                })
                .collect()));
        }
    }
    let Some(doc) = docs.into_iter().next() else {
        return Ok(Ok(Policy {
            file: Some(name),
            ..Policy::default()
        }));
    };
    // The whole catalogue: one policy file names rules, host checks and detection rules,
    // and the constraints loaded with it.
    let mut metas: Vec<&palisade_core::RuleMeta> = palisade_analyze::catalogue::all().to_vec();
    metas.extend_from_slice(extra);
    Ok(Policy::from_value(&doc.value, &doc.spans, &name, &metas))
}

/// Prints every problem of a configuration file, then how many there are.
#[allow(clippy::print_stderr)]
pub(crate) fn print_errors(errors: &[PolicyError]) {
    for e in errors {
        eprintln!("error: {e}");
    }
    eprintln!(
        "error: the configuration has {} problem{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
}

/// A commented template of every setting (`palisade init`).
pub(crate) const TEMPLATE: &str = r#"# palisade.yaml: Palisade's policy. Every key is optional.

# Pod Security Standards level for POD rules: privileged | baseline | restricted.
profile: restricted

# Admission mode when neither the rule nor the namespace sets one: audit | warn | deny.
defaultMode: audit

# `palisade scan` and `palisade detect` exit 1 when a finding (an alert) is at or above
# this severity, `palisade node` when a FAIL is: critical | high | medium | low | info.
failOn: high

# Rule selection: ids (POD001), prefixes and families (POD, IMG), rule names
# (privileged-container), tags (pss) and references (cis:5.2, book:ops.rbac, owasp:K01);
# host checks of `palisade node` by id or section ("1.2.1", "1.2", tls: quote the numbers)
# and detection rules (DET001, DET).
# select: [ALL]
# ignore: [REL002]

# Per-rule settings: enabled, severity, mode, and the rule's own options
# (see `palisade explain ID`).
rules:
  # POD001: { mode: deny }
  # REL003: { enabled: false }
  # IMG001: { severity: high }
  # Registry allowlist (IMG004: other registries, IMG005: public registries such as
  # docker.io); both rules are inactive until a list is set, so set it on both.
  # IMG004: { allowedRegistries: ["contoso.azurecr.io/", "mcr.microsoft.com/"] }
  # IMG005: { allowedRegistries: ["contoso.azurecr.io/", "mcr.microsoft.com/"] }
  # Vulnerability reports (scan --vuln-report): fixable findings at or above minSeverity,
  # past graceDays since the fix (or the publication) date.
  # IMG006: { minSeverity: high, graceDays: 30 }

# Per-namespace admission mode.
namespaces:
  # kube-system: { mode: audit }

# Exceptions are owned by the platform team and expire: on the day after `expires` the
# finding is reported again and the exception is listed as expired. A host check's
# exception matches its node: match: { kind: Node, name: <hostname> }; a detection
# rule's, the audit event's object: match: { namespace: dev, kind: Pod, name: debug-* }.
exceptions:
  # - rules: [POD004]
  #   match: { namespace: monitoring, kind: DaemonSet, name: node-exporter }
  #   reason: "needs hostPID for node metrics"
  #   owner: team-observability
  #   ticket: OPS-1234
  #   expires: 2027-01-31

# Gatekeeper ConstraintTemplates and constraints to evaluate beside the built-in rules
# (files or directories, relative to this file; `--policy` adds more). A constraint is a
# rule named Kind/name (K8sPSPPrivilegedContainer/psp-privileged-container): select,
# ignore, set its severity (default medium) or mode (default: its enforcementAction) here.
# policies: [policies/]

# Honour `palisade.dev/ignore: "POD001,IMG001"` annotations on objects. Off by default:
# workload owners cannot exempt themselves unless the platform team allows it.
allowAnnotationExceptions: false
"#;
