//! Vulnerability reports about container images, read into one model and joined with the
//! images workloads run.
//!
//! Formats:
//! - **Trivy JSON** (`trivy image -f json`): `ArtifactName`, `Metadata.RepoTags` and
//!   `Metadata.RepoDigests` name the image; `Results[].Vulnerabilities[]` carry
//!   `VulnerabilityID`, `PkgName`, `InstalledVersion`, `FixedVersion`, `Severity` and
//!   `PublishedDate`.
//! - **Grype JSON** (`grype IMAGE -o json`): `source.target` (`userInput`, `tags`,
//!   `repoDigests`, `manifestDigest`) names the image; `matches[]` carry
//!   `vulnerability.{id, severity, fix.{versions, state, available[].date}}` and
//!   `artifact.{name, version}`.
//! - **SARIF 2.1.0** from image scans (`trivy image -f sarif`, `grype -o sarif`). SARIF has no
//!   field for a package, its versions or any date: Palisade reads them from the labelled
//!   lines both scanners write into the result message or the rule's help text (`Package:`,
//!   `Installed Version:`/`Version:`, `Fixed Version:`/`Fix Version:`, `Severity:`), the
//!   severity else from the rule's `security-severity` score or the result's `level`, and the
//!   image from the run's `properties` (Trivy: `imageName`, `repoTags`, `repoDigests`) or the
//!   results' logical locations (Grype: `INPUT@DIGEST:PATH`). A SARIF vulnerability has no
//!   publication or fix date, so its grace period cannot be counted.
//! - **Trivy Operator** `VulnerabilityReport` objects (`aquasecurity.github.io/v1alpha1`):
//!   `report.registry.server` and `report.artifact.{repository, tag, digest}` name the image;
//!   `report.vulnerabilities[]` carry `vulnerabilityID`, `resource`, `installedVersion`,
//!   `fixedVersion`, `severity` and `publishedDate`.
//!
//! Nothing else is read from a report (descriptions, links, paths inside the image, layer
//! and environment data stay out of the model).

use jiff::civil::Date;
use palisade_core::object::{escape_segment, type_name};
use palisade_core::{ImageRef, Severity, SpanIndex};
use serde_json::{Map, Value};
use std::fmt;

/// The format a report was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `trivy image -f json`.
    TrivyJson,
    /// `grype -o json`.
    GrypeJson,
    /// SARIF 2.1.0 from an image scan.
    Sarif,
    /// A Trivy Operator `VulnerabilityReport` object.
    TrivyOperator,
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportFormat::TrivyJson => "Trivy JSON",
            ReportFormat::GrypeJson => "Grype JSON",
            ReportFormat::Sarif => "SARIF",
            ReportFormat::TrivyOperator => "Trivy Operator",
        })
    }
}

/// Where the day a grace period counts from comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinceSource {
    /// The day the fix became available (Grype's `fix.available[].date`).
    FixAvailable,
    /// The day the vulnerability was published (Trivy's `PublishedDate`).
    Published,
}

impl fmt::Display for SinceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SinceSource::FixAvailable => "fix available since",
            SinceSource::Published => "published",
        })
    }
}

/// One vulnerability of one package in an image.
#[derive(Clone, Debug, PartialEq)]
pub struct Vulnerability {
    /// `CVE-2024-1234`, `GHSA-...`.
    pub id: String,
    /// The scanner's severity; `None` when it says unknown.
    pub severity: Option<Severity>,
    /// The package.
    pub package: String,
    /// The installed version.
    pub installed: String,
    /// The version(s) fixing it, as the scanner writes them; `None`: no fix known.
    pub fixed: Option<String>,
    /// The day the vulnerability was published, when the report gives it.
    pub published: Option<Date>,
    /// The first day a fix was available, when the report gives it.
    pub fix_available: Option<Date>,
}

impl Vulnerability {
    /// True when a fixed version is known.
    pub fn fixable(&self) -> bool {
        self.fixed.is_some()
    }

    /// The day a grace period counts from: the day the fix became available when the report
    /// says, else the day the vulnerability was published (a fix cannot predate its
    /// publication by much, and the publication date is what Trivy reports). Never the
    /// last-modified date, which moves whenever a database edits the record.
    pub fn since(&self) -> Option<(Date, SinceSource)> {
        self.fix_available
            .map(|d| (d, SinceSource::FixAvailable))
            .or_else(|| self.published.map(|d| (d, SinceSource::Published)))
    }
}

/// What one report says about one image.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageReport {
    /// Where it came from: a file name, or `VulnerabilityReport NAMESPACE/NAME`.
    pub source: String,
    /// The format.
    pub format: ReportFormat,
    /// The image as the report names it.
    pub image: String,
    /// The references the image was scanned under, normalised (`nginx:1.25` is
    /// `docker.io/library/nginx:1.25`).
    pub references: Vec<ImageRef>,
    /// Manifest digests of the image (`sha256:...`).
    pub digests: Vec<String>,
    /// Its vulnerabilities.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// How a report was joined with a container's image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinedBy {
    /// The container's image is pinned to a digest the report names.
    Digest,
    /// The container's image reference (registry, repository and tag, normalised) is one
    /// the report names.
    Reference,
}

impl fmt::Display for JoinedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JoinedBy::Digest => "digest",
            JoinedBy::Reference => "reference",
        })
    }
}

fn tag_or_latest(r: &ImageRef) -> &str {
    r.tag.as_deref().unwrap_or("latest")
}

impl ImageReport {
    /// Whether this report is about the image a container runs: by digest when the
    /// container pins one (a report naming other digests is about other content), else by
    /// normalised reference (registry with Docker Hub defaults, repository, tag with
    /// `latest` by default). A container pinned to a digest the report does not name is
    /// joined by reference only when the report names no digest at all and the container
    /// also names a tag.
    pub fn joins(&self, image: &ImageRef) -> Option<JoinedBy> {
        if let Some(d) = &image.digest {
            if self.digests.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                return Some(JoinedBy::Digest);
            }
            if !self.digests.is_empty() || image.tag.is_none() {
                return None;
            }
        }
        let name = image.full_name();
        let tag = tag_or_latest(image);
        self.references
            .iter()
            .any(|r| r.full_name() == name && r.digest.is_none() && tag_or_latest(r) == tag)
            .then_some(JoinedBy::Reference)
    }
}

/// Every report a scan was given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VulnEvidence {
    /// The reports, in the order they were read.
    pub reports: Vec<ImageReport>,
}

impl VulnEvidence {
    /// The reports about an image, with how each was joined.
    pub fn for_image<'a>(
        &'a self,
        image: &'a ImageRef,
    ) -> impl Iterator<Item = (&'a ImageReport, JoinedBy)> + 'a {
        self.reports
            .iter()
            .filter_map(move |r| r.joins(image).map(|j| (r, j)))
    }
}

/// A report that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for ReportError {}

struct Reader<'a> {
    file: &'a str,
    spans: &'a SpanIndex,
}

impl Reader<'_> {
    fn error(&self, pointer: &str, message: impl Into<String>) -> ReportError {
        let (line, column) = self
            .spans
            .resolve(pointer)
            .or_else(|| self.spans.resolve_root())
            .unwrap_or((0, 0));
        ReportError {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A required string field.
    fn string<'v>(
        &self,
        m: &'v Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<&'v str, ReportError> {
        match m.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.error(
                &format!("{ptr}/{}", escape_segment(key)),
                format!("`{key}` must be a string, found {}", type_name(other)),
            )),
            None => Err(self.error(ptr, format!("missing `{key}`"))),
        }
    }

    /// An optional string field (absent, null and empty are `None`).
    fn opt_string<'v>(
        &self,
        m: &'v Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<Option<&'v str>, ReportError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(self.error(
                &format!("{ptr}/{}", escape_segment(key)),
                format!("`{key}` must be a string, found {}", type_name(other)),
            )),
        }
    }

    fn object<'v>(
        &self,
        v: &'v Value,
        ptr: &str,
        what: &str,
    ) -> Result<&'v Map<String, Value>, ReportError> {
        v.as_object().ok_or_else(|| {
            self.error(
                ptr,
                format!("{what} must be a mapping, found {}", type_name(v)),
            )
        })
    }

    /// An optional list field (absent and null are empty).
    fn list<'v>(
        &self,
        m: &'v Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<&'v [Value], ReportError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.error(
                &format!("{ptr}/{}", escape_segment(key)),
                format!("`{key}` must be a list, found {}", type_name(other)),
            )),
        }
    }

    fn strings<'v>(
        &self,
        m: &'v Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<Vec<&'v str>, ReportError> {
        let p = format!("{ptr}/{}", escape_segment(key));
        self.list(m, ptr, key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().ok_or_else(|| {
                    self.error(
                        &format!("{p}/{i}"),
                        format!(
                            "each entry of `{key}` must be a string, found {}",
                            type_name(v)
                        ),
                    )
                })
            })
            .collect()
    }

    /// A date field written as RFC 3339 (`2024-01-31T14:15:08Z`) or `YYYY-MM-DD`; Go's zero
    /// time (`0001-01-01...`) means absent.
    fn date(
        &self,
        m: &Map<String, Value>,
        ptr: &str,
        key: &str,
    ) -> Result<Option<Date>, ReportError> {
        let Some(s) = self.opt_string(m, ptr, key)? else {
            return Ok(None);
        };
        let day = s.get(..10).unwrap_or(s);
        match day.parse::<Date>() {
            Ok(d) if d.year() <= 1 => Ok(None),
            Ok(d) => Ok(Some(d)),
            Err(_) => Err(self.error(
                &format!("{ptr}/{}", escape_segment(key)),
                format!("`{key}`: `{s}` is not a date (expected RFC 3339 or YYYY-MM-DD)"),
            )),
        }
    }
}

/// The severity words of Trivy (`UNKNOWN`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`) and Grype
/// (`Negligible`, `Low`, `Medium`, `High`, `Critical`, `Unknown`). Negligible is `info`;
/// unknown is `None`.
pub fn severity_word(s: &str) -> Result<Option<Severity>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Ok(Some(Severity::Critical)),
        "high" => Ok(Some(Severity::High)),
        "medium" | "moderate" => Ok(Some(Severity::Medium)),
        "low" => Ok(Some(Severity::Low)),
        "negligible" | "info" | "informational" | "none" => Ok(Some(Severity::Info)),
        "unknown" | "" => Ok(None),
        other => Err(format!(
            "unknown severity `{other}` (expected CRITICAL, HIGH, MEDIUM, LOW, NEGLIGIBLE or UNKNOWN)"
        )),
    }
}

/// A CVSS v3 base score's qualitative band (the SARIF `security-severity` property).
pub fn severity_of_score(score: f64) -> Option<Severity> {
    match score {
        s if s >= 9.0 => Some(Severity::Critical),
        s if s >= 7.0 => Some(Severity::High),
        s if s >= 4.0 => Some(Severity::Medium),
        s if s > 0.0 => Some(Severity::Low),
        0.0 => Some(Severity::Info),
        _ => None,
    }
}

/// Parses `name@sha256:...` or `sha256:...` into the digest.
fn digest_of(s: &str) -> Option<String> {
    let d = s.rsplit_once('@').map_or(s, |(_, d)| d).trim();
    (d.starts_with("sha256:") || d.starts_with("sha512:")).then(|| d.to_ascii_lowercase())
}

fn push_reference(refs: &mut Vec<ImageRef>, s: &str) {
    if let Ok(r) = ImageRef::parse(s) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
}

fn push_digest(digests: &mut Vec<String>, s: &str) {
    if let Some(d) = digest_of(s) {
        if !digests.contains(&d) {
            digests.push(d);
        }
    }
}

/// Reads a report file: Trivy JSON, Grype JSON or SARIF, told apart by their top-level
/// fields. One file can describe several images (a SARIF file with several runs).
pub fn parse_report(file: &str, text: &str) -> Result<Vec<ImageReport>, ReportError> {
    let docs = palisade_load::yaml::parse_documents(text, 1, true).map_err(|e| ReportError {
        file: file.to_owned(),
        line: e.line,
        column: e.column,
        message: format!("not valid JSON: {}", e.reason),
    })?;
    let doc = match docs.as_slice() {
        [d] => d,
        [] => {
            return Err(ReportError {
                file: file.to_owned(),
                line: 0,
                column: 0,
                message: "empty report".to_owned(),
            })
        }
        [_, d, ..] => {
            return Err(ReportError {
                file: file.to_owned(),
                line: d.line,
                column: d.column,
                message: "a report is one JSON document; this file holds several".to_owned(),
            })
        }
    };
    let r = Reader {
        file,
        spans: &doc.spans,
    };
    let top = r.object(&doc.value, "", "a vulnerability report")?;
    if top.contains_key("runs") {
        parse_sarif(&r, top)
    } else if top.contains_key("matches") {
        parse_grype(&r, top).map(|x| vec![x])
    } else if top.contains_key("ArtifactName") || top.contains_key("SchemaVersion") {
        if top.contains_key("ClusterName") {
            return Err(r.error(
                "",
                "a `trivy k8s` report: give the reports of the images (`trivy image -f json IMAGE`)",
            ));
        }
        parse_trivy(&r, top).map(|x| vec![x])
    } else if top.get("kind").and_then(Value::as_str) == Some("VulnerabilityReport") {
        parse_operator_value(&r, top).map(|x| vec![x])
    } else {
        Err(r.error(
            "",
            "not a vulnerability report Palisade reads (expected Trivy JSON with `ArtifactName` and `Results`, Grype JSON with `matches` and `source`, or SARIF with `runs`)",
        ))
    }
}

fn parse_trivy(r: &Reader<'_>, top: &Map<String, Value>) -> Result<ImageReport, ReportError> {
    if let Some(t) = r.opt_string(top, "", "ArtifactType")? {
        if t != "container_image" {
            return Err(r.error(
                "/ArtifactType",
                format!(
                    "a Trivy report of a `{t}`, not of a container image (`trivy image -f json`)"
                ),
            ));
        }
    }
    let name = r.string(top, "", "ArtifactName")?;
    let mut references = Vec::new();
    let mut digests = Vec::new();
    push_reference(&mut references, name);
    if let Some(meta) = top.get("Metadata") {
        let meta = r.object(meta, "/Metadata", "`Metadata`")?;
        for t in r.strings(meta, "/Metadata", "RepoTags")? {
            push_reference(&mut references, t);
        }
        for d in r.strings(meta, "/Metadata", "RepoDigests")? {
            push_digest(&mut digests, d);
        }
    }
    push_digest(&mut digests, name);
    let mut vulnerabilities = Vec::new();
    for (i, res) in r.list(top, "", "Results")?.iter().enumerate() {
        let rp = format!("/Results/{i}");
        let res = r.object(res, &rp, "each result")?;
        for (j, v) in r.list(res, &rp, "Vulnerabilities")?.iter().enumerate() {
            let vp = format!("{rp}/Vulnerabilities/{j}");
            let v = r.object(v, &vp, "each vulnerability")?;
            let sev = r.opt_string(v, &vp, "Severity")?.unwrap_or("UNKNOWN");
            vulnerabilities.push(Vulnerability {
                id: r.string(v, &vp, "VulnerabilityID")?.to_owned(),
                severity: severity_word(sev).map_err(|e| r.error(&format!("{vp}/Severity"), e))?,
                package: r.string(v, &vp, "PkgName")?.to_owned(),
                installed: r
                    .opt_string(v, &vp, "InstalledVersion")?
                    .unwrap_or("")
                    .to_owned(),
                fixed: r.opt_string(v, &vp, "FixedVersion")?.map(str::to_owned),
                published: r.date(v, &vp, "PublishedDate")?,
                fix_available: None,
            });
        }
    }
    finish(
        r,
        ReportFormat::TrivyJson,
        name,
        references,
        digests,
        vulnerabilities,
    )
}

fn finish(
    r: &Reader<'_>,
    format: ReportFormat,
    image: &str,
    references: Vec<ImageRef>,
    digests: Vec<String>,
    mut vulnerabilities: Vec<Vulnerability>,
) -> Result<ImageReport, ReportError> {
    if references.is_empty() && digests.is_empty() {
        return Err(r.error(
            "",
            format!("the report names no image reference or digest (`{image}`), so it cannot be joined with a workload's images"),
        ));
    }
    // One entry per vulnerability and package version (Trivy lists a package once per
    // result it was found in).
    let mut seen = std::collections::HashSet::new();
    vulnerabilities.retain(|v| seen.insert((v.id.clone(), v.package.clone(), v.installed.clone())));
    Ok(ImageReport {
        source: r.file.to_owned(),
        format,
        image: image.to_owned(),
        references,
        digests,
        vulnerabilities,
    })
}

fn parse_grype(r: &Reader<'_>, top: &Map<String, Value>) -> Result<ImageReport, ReportError> {
    let source = top
        .get("source")
        .ok_or_else(|| r.error("", "missing `source` (the scanned image)"))?;
    let source = r.object(source, "/source", "`source`")?;
    let kind = r.string(source, "/source", "type")?;
    if kind != "image" {
        return Err(r.error(
            "/source/type",
            format!("a Grype report of a `{kind}`, not of a container image"),
        ));
    }
    let target = source
        .get("target")
        .ok_or_else(|| r.error("/source", "missing `target`"))?;
    let target = r.object(target, "/source/target", "`source.target`")?;
    let name = r.string(target, "/source/target", "userInput")?;
    let mut references = Vec::new();
    let mut digests = Vec::new();
    push_reference(&mut references, name);
    for t in r.strings(target, "/source/target", "tags")? {
        push_reference(&mut references, t);
    }
    if let Some(d) = r.opt_string(target, "/source/target", "manifestDigest")? {
        push_digest(&mut digests, d);
    }
    for d in r.strings(target, "/source/target", "repoDigests")? {
        push_digest(&mut digests, d);
    }
    push_digest(&mut digests, name);
    let mut vulnerabilities = Vec::new();
    for (i, m) in r.list(top, "", "matches")?.iter().enumerate() {
        let mp = format!("/matches/{i}");
        let m = r.object(m, &mp, "each match")?;
        let vp = format!("{mp}/vulnerability");
        let v = r.object(
            m.get("vulnerability").unwrap_or(&Value::Null),
            &vp,
            "`vulnerability`",
        )?;
        let ap = format!("{mp}/artifact");
        let a = r.object(m.get("artifact").unwrap_or(&Value::Null), &ap, "`artifact`")?;
        let sev = r.opt_string(v, &vp, "severity")?.unwrap_or("Unknown");
        let (mut fixed, mut fix_available) = (None, None);
        if let Some(fix) = v.get("fix") {
            let fp = format!("{vp}/fix");
            let fix = r.object(fix, &fp, "`fix`")?;
            let state = r.opt_string(fix, &fp, "state")?.unwrap_or("unknown");
            let versions = r.strings(fix, &fp, "versions")?;
            if state == "fixed" && !versions.is_empty() {
                fixed = Some(versions.join(", "));
                // Newer Grype says when each fixed version became available.
                for (k, av) in r.list(fix, &fp, "available")?.iter().enumerate() {
                    let avp = format!("{fp}/available/{k}");
                    let av = r.object(av, &avp, "each `available` entry")?;
                    if let Some(d) = r.date(av, &avp, "date")? {
                        fix_available = Some(fix_available.map_or(d, |x: Date| x.min(d)));
                    }
                }
            }
        }
        vulnerabilities.push(Vulnerability {
            id: r.string(v, &vp, "id")?.to_owned(),
            severity: severity_word(sev).map_err(|e| r.error(&format!("{vp}/severity"), e))?,
            package: r.string(a, &ap, "name")?.to_owned(),
            installed: r.opt_string(a, &ap, "version")?.unwrap_or("").to_owned(),
            fixed,
            published: None,
            fix_available,
        });
    }
    finish(
        r,
        ReportFormat::GrypeJson,
        name,
        references,
        digests,
        vulnerabilities,
    )
}

/// `Key: value` lines of a SARIF text.
fn labelled<'t>(text: &'t str, keys: &[&str]) -> Option<&'t str> {
    text.lines().find_map(|l| {
        keys.iter().find_map(|k| {
            l.trim()
                .strip_prefix(k)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    })
}

fn parse_sarif(r: &Reader<'_>, top: &Map<String, Value>) -> Result<Vec<ImageReport>, ReportError> {
    let mut out = Vec::new();
    for (i, run) in r.list(top, "", "runs")?.iter().enumerate() {
        let rp = format!("/runs/{i}");
        let run = r.object(run, &rp, "each run")?;
        let rules: &[Value] = run
            .get("tool")
            .and_then(|t| t.pointer("/driver/rules"))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let mut references = Vec::new();
        let mut digests = Vec::new();
        let mut image = None;
        // Trivy: the run's properties name the image.
        if let Some(props) = run.get("properties").and_then(Value::as_object) {
            let pp = format!("{rp}/properties");
            if let Some(n) = r.opt_string(props, &pp, "imageName")? {
                push_reference(&mut references, n);
                push_digest(&mut digests, n);
                image = Some(n.to_owned());
            }
            for t in r.strings(props, &pp, "repoTags")? {
                push_reference(&mut references, t);
            }
            for d in r.strings(props, &pp, "repoDigests")? {
                push_digest(&mut digests, d);
            }
        }
        let mut vulnerabilities = Vec::new();
        for (j, res) in r.list(run, &rp, "results")?.iter().enumerate() {
            let resp = format!("{rp}/results/{j}");
            let res_value = res;
            let res = r.object(res, &resp, "each result")?;
            let rule_id = r.string(res, &resp, "ruleId")?;
            let rule = res
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .and_then(|k| rules.get(usize::try_from(k).ok()?))
                .filter(|x| x.get("id").and_then(Value::as_str) == Some(rule_id))
                .or_else(|| {
                    rules
                        .iter()
                        .find(|x| x.get("id").and_then(Value::as_str) == Some(rule_id))
                });
            let message = res_value
                .pointer("/message/text")
                .and_then(Value::as_str)
                .unwrap_or("");
            let help = rule
                .and_then(|x| x.pointer("/help/text"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let find = |keys: &[&str]| labelled(message, keys).or_else(|| labelled(help, keys));
            // Grype: the image is the logical location `INPUT@DIGEST:PATH`.
            if let Some(fq) = res_value
                .pointer("/locations/0/logicalLocations/0/fullyQualifiedName")
                .and_then(Value::as_str)
            {
                if let Some((input, rest)) = fq.split_once('@') {
                    let digest = rest.split_once(':').map_or("", |(a, b)| {
                        // `sha256:HEX:/path`: keep `sha256:HEX`.
                        if a.starts_with("sha") {
                            b.split_once(':').map_or("", |(hex, _)| hex)
                        } else {
                            ""
                        }
                    });
                    if !digest.is_empty() {
                        let alg = rest.split_once(':').map_or("", |(a, _)| a);
                        push_digest(&mut digests, &format!("{alg}:{digest}"));
                    }
                    push_reference(&mut references, input);
                    image.get_or_insert_with(|| input.to_owned());
                }
            }
            // A result without a package is not a vulnerability (misconfigurations, secrets).
            let Some(package) = find(&["Package"]) else {
                continue;
            };
            let id = find(&["Vulnerability"])
                .or_else(|| {
                    help.lines()
                        .chain(message.lines())
                        .find_map(|l| l.trim().strip_prefix("Vulnerability "))
                        .map(str::trim)
                })
                .unwrap_or(rule_id);
            let severity = match find(&["Severity"]) {
                Some(s) => severity_word(s).map_err(|e| r.error(&resp, e))?,
                None => match rule
                    .and_then(|x| x.pointer("/properties/security-severity"))
                    .and_then(|s| {
                        s.as_str()
                            .map(str::to_owned)
                            .or_else(|| Some(s.to_string()))
                    })
                    .and_then(|s| s.parse::<f64>().ok())
                {
                    Some(score) => severity_of_score(score),
                    None => match res.get("level").and_then(Value::as_str) {
                        Some("error") => Some(Severity::High),
                        Some("warning") => Some(Severity::Medium),
                        Some("note") => Some(Severity::Low),
                        _ => None,
                    },
                },
            };
            vulnerabilities.push(Vulnerability {
                id: id.to_owned(),
                severity,
                package: package.to_owned(),
                installed: find(&["Installed Version", "Version"])
                    .unwrap_or("")
                    .to_owned(),
                fixed: find(&["Fixed Version", "Fix Version"])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                published: None,
                fix_available: None,
            });
        }
        let Some(image) = image else {
            return Err(r.error(
                &rp,
                "this SARIF run does not name the scanned image (no `properties.imageName` as Trivy writes, no logical location `IMAGE@DIGEST:PATH` as Grype writes), so it cannot be joined with a workload's images",
            ));
        };
        out.push(finish(
            r,
            ReportFormat::Sarif,
            &image,
            references,
            digests,
            vulnerabilities,
        )?);
    }
    Ok(out)
}

/// Reads a Trivy Operator `VulnerabilityReport` object (`aquasecurity.github.io/v1alpha1`).
/// `source` names it in findings (`VulnerabilityReport shop/replicaset-web-...-web`).
pub fn from_operator_report(source: &str, object: &Value) -> Result<ImageReport, ReportError> {
    let spans = SpanIndex::default();
    let r = Reader {
        file: source,
        spans: &spans,
    };
    let top = r.object(object, "", "a VulnerabilityReport")?;
    parse_operator_value(&r, top)
}

fn parse_operator_value(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<ImageReport, ReportError> {
    let report = r.object(
        top.get("report").unwrap_or(&Value::Null),
        "/report",
        "`report`",
    )?;
    let artifact = r.object(
        report.get("artifact").unwrap_or(&Value::Null),
        "/report/artifact",
        "`report.artifact`",
    )?;
    let repository = r.string(artifact, "/report/artifact", "repository")?;
    let tag = r.opt_string(artifact, "/report/artifact", "tag")?;
    let digest = r.opt_string(artifact, "/report/artifact", "digest")?;
    let server = match report.get("registry") {
        Some(reg) => r.opt_string(
            r.object(reg, "/report/registry", "`report.registry`")?,
            "/report/registry",
            "server",
        )?,
        None => None,
    };
    let mut name = match server {
        Some(s) => format!("{s}/{repository}"),
        None => repository.to_owned(),
    };
    if let Some(t) = tag {
        name = format!("{name}:{t}");
    }
    let mut references = Vec::new();
    let mut digests = Vec::new();
    push_reference(&mut references, &name);
    if let Some(d) = digest {
        push_digest(&mut digests, d);
    }
    let mut vulnerabilities = Vec::new();
    for (i, v) in r
        .list(report, "/report", "vulnerabilities")?
        .iter()
        .enumerate()
    {
        let vp = format!("/report/vulnerabilities/{i}");
        let v = r.object(v, &vp, "each vulnerability")?;
        let sev = r.opt_string(v, &vp, "severity")?.unwrap_or("UNKNOWN");
        vulnerabilities.push(Vulnerability {
            id: r.string(v, &vp, "vulnerabilityID")?.to_owned(),
            severity: severity_word(sev).map_err(|e| r.error(&format!("{vp}/severity"), e))?,
            package: r.string(v, &vp, "resource")?.to_owned(),
            installed: r
                .opt_string(v, &vp, "installedVersion")?
                .unwrap_or("")
                .to_owned(),
            fixed: r.opt_string(v, &vp, "fixedVersion")?.map(str::to_owned),
            published: r.date(v, &vp, "publishedDate")?,
            fix_available: None,
        });
    }
    finish(
        r,
        ReportFormat::TrivyOperator,
        &name,
        references,
        digests,
        vulnerabilities,
    )
}

/// Reads report files (`--vuln-report`), each at most `max_bytes` long. Every file that
/// cannot be read is an error; all of them are returned, not only the first.
pub fn read_reports(
    paths: &[std::path::PathBuf],
    max_bytes: u64,
) -> Result<VulnEvidence, Vec<ReportError>> {
    let mut evidence = VulnEvidence::default();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let text = palisade_load::read_file_bounded(path, max_bytes)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()));
        match text {
            Ok(text) => match parse_report(&name, &text) {
                Ok(r) => evidence.reports.extend(r),
                Err(e) => errors.push(e),
            },
            Err(message) => errors.push(ReportError {
                file: name,
                line: 0,
                column: 0,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(evidence)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    const TRIVY: &str = r#"{
  "SchemaVersion": 2,
  "ArtifactName": "registry.example.com/shop/api:2.1.0",
  "ArtifactType": "container_image",
  "Metadata": {
    "RepoTags": ["registry.example.com/shop/api:2.1.0"],
    "RepoDigests": ["registry.example.com/shop/api@sha256:aaaa"]
  },
  "Results": [
    {"Target": "x (alpine 3.19.0)", "Class": "os-pkgs", "Vulnerabilities": [
      {"VulnerabilityID": "CVE-2099-0001", "PkgName": "zlib", "InstalledVersion": "1.3-r0",
       "FixedVersion": "1.3-r1", "Severity": "HIGH", "PublishedDate": "2099-01-02T10:00:00Z",
       "LastModifiedDate": "2099-03-01T00:00:00Z"},
      {"VulnerabilityID": "CVE-2099-0002", "PkgName": "musl", "InstalledVersion": "1.2.4-r2",
       "Severity": "UNKNOWN"}
    ]}
  ]
}"#;

    #[test]
    fn trivy_join_by_digest_and_reference() {
        let r = parse_report("t.json", TRIVY).unwrap();
        assert_eq!(r.len(), 1);
        let r = &r[0];
        assert_eq!(r.format, ReportFormat::TrivyJson);
        assert_eq!(r.digests, vec!["sha256:aaaa"]);
        assert_eq!(r.vulnerabilities.len(), 2);
        let v = &r.vulnerabilities[0];
        assert_eq!(v.severity, Some(Severity::High));
        assert_eq!(v.fixed.as_deref(), Some("1.3-r1"));
        assert_eq!(
            v.since(),
            Some(("2099-01-02".parse().unwrap(), SinceSource::Published))
        );
        assert!(!r.vulnerabilities[1].fixable());
        assert_eq!(r.vulnerabilities[1].severity, None);
        assert_eq!(
            r.joins(&img("registry.example.com/shop/api:2.1.0")),
            Some(JoinedBy::Reference)
        );
        assert_eq!(
            r.joins(&img("REGISTRY.example.com/shop/api@sha256:aaaa")),
            Some(JoinedBy::Digest)
        );
        // Another digest is other content, whatever the tag says.
        assert_eq!(
            r.joins(&img("registry.example.com/shop/api:2.1.0@sha256:bbbb")),
            None
        );
        assert_eq!(r.joins(&img("registry.example.com/shop/api:2.1.1")), None);
        assert_eq!(r.joins(&img("registry.example.com/shop/api")), None);
    }

    #[test]
    fn docker_hub_defaults() {
        let text = TRIVY
            .replace("registry.example.com/shop/api:2.1.0", "nginx")
            .replace(
                "\"RepoDigests\": [\"registry.example.com/shop/api@sha256:aaaa\"]",
                "\"RepoDigests\": []",
            );
        let r = &parse_report("t.json", &text).unwrap()[0];
        assert_eq!(
            r.joins(&img("docker.io/library/nginx:latest")),
            Some(JoinedBy::Reference)
        );
        assert_eq!(
            r.joins(&img("index.docker.io/nginx")),
            Some(JoinedBy::Reference)
        );
        assert_eq!(r.joins(&img("nginx:1.27")), None);
        // Pinned and tagged, and the report names no digest: joined by its tag.
        assert_eq!(
            r.joins(&img("nginx:latest@sha256:cc")),
            Some(JoinedBy::Reference)
        );
        assert_eq!(r.joins(&img("nginx@sha256:cc")), None);
    }

    #[test]
    fn errors_name_line_and_reason() {
        let bad = TRIVY.replace("\"PkgName\": \"zlib\"", "\"PkgName\": 3");
        let e = parse_report("t.json", &bad).unwrap_err();
        assert_eq!(e.line, 11, "{e}");
        assert!(e.message.contains("`PkgName` must be a string"), "{e}");
        let e = parse_report("t.json", "{\"SchemaVersion\": 2,").unwrap_err();
        assert!(e.message.starts_with("not valid JSON"), "{e}");
        let e = parse_report("t.json", "{\"hello\": 1}").unwrap_err();
        assert!(e.message.contains("not a vulnerability report"), "{e}");
        let bad = TRIVY.replace("\"HIGH\"", "\"SEVERE\"");
        let e = parse_report("t.json", &bad).unwrap_err();
        assert!(e.to_string().starts_with("t.json:12:"), "{e}");
        let fs = TRIVY.replace("container_image", "filesystem");
        assert!(parse_report("t.json", &fs)
            .unwrap_err()
            .message
            .contains("not of a container image"));
    }

    #[test]
    fn grype_fix_dates() {
        let text = r#"{
  "matches": [
    {"vulnerability": {"id": "GHSA-xxxx", "severity": "Critical",
       "fix": {"versions": ["1.2.5"], "state": "fixed",
               "available": [{"version": "1.2.5", "date": "2099-02-01", "kind": "first-observed"}]}},
     "artifact": {"name": "golang.org/x/net", "version": "1.2.3"}},
    {"vulnerability": {"id": "CVE-2099-9", "severity": "Negligible", "fix": {"versions": [], "state": "wont-fix"}},
     "artifact": {"name": "tar", "version": "1.34"}}
  ],
  "source": {"type": "image", "target": {"userInput": "ghcr.io/acme/web:1.0",
    "manifestDigest": "sha256:dddd", "tags": [], "repoDigests": ["ghcr.io/acme/web@sha256:eeee"]}}
}"#;
        let r = &parse_report("g.json", text).unwrap()[0];
        assert_eq!(r.format, ReportFormat::GrypeJson);
        assert_eq!(r.digests, vec!["sha256:dddd", "sha256:eeee"]);
        let v = &r.vulnerabilities[0];
        assert_eq!(v.severity, Some(Severity::Critical));
        assert_eq!(
            v.since(),
            Some(("2099-02-01".parse().unwrap(), SinceSource::FixAvailable))
        );
        assert!(!r.vulnerabilities[1].fixable());
        assert_eq!(r.vulnerabilities[1].severity, Some(Severity::Info));
        assert_eq!(
            r.joins(&img("ghcr.io/acme/web@sha256:eeee")),
            Some(JoinedBy::Digest)
        );
        assert_eq!(
            r.joins(&img("ghcr.io/acme/web:1.0")),
            Some(JoinedBy::Reference)
        );
        let dir = text.replace("\"type\": \"image\"", "\"type\": \"directory\"");
        assert!(parse_report("g.json", &dir).is_err());
    }

    #[test]
    fn sarif_trivy_and_grype() {
        let trivy = r#"{"version": "2.1.0", "runs": [{
  "tool": {"driver": {"name": "Trivy", "rules": [{"id": "CVE-2099-1", "properties": {"security-severity": "7.5"}}]}},
  "properties": {"imageName": "nginx:1.25.3", "repoTags": ["nginx:1.25.3"], "repoDigests": ["nginx@sha256:f0f0"]},
  "results": [
    {"ruleId": "CVE-2099-1", "ruleIndex": 0, "level": "error",
     "message": {"text": "Package: libssl3\nInstalled Version: 3.0.11-1\nVulnerability CVE-2099-1\nSeverity: HIGH\nFixed Version: 3.0.13-1\nLink: [CVE-2099-1](https://example.invalid)"}},
    {"ruleId": "DS002", "message": {"text": "Artifact: Dockerfile\nType: dockerfile"}}
  ]}]}"#;
        let r = &parse_report("t.sarif", trivy).unwrap()[0];
        assert_eq!(r.format, ReportFormat::Sarif);
        assert_eq!(r.vulnerabilities.len(), 1);
        let v = &r.vulnerabilities[0];
        assert_eq!(
            (v.id.as_str(), v.package.as_str(), v.installed.as_str()),
            ("CVE-2099-1", "libssl3", "3.0.11-1")
        );
        assert_eq!(v.fixed.as_deref(), Some("3.0.13-1"));
        assert_eq!(v.since(), None);
        assert_eq!(
            r.joins(&img("docker.io/library/nginx:1.25.3")),
            Some(JoinedBy::Reference)
        );
        assert_eq!(r.joins(&img("nginx@sha256:f0f0")), Some(JoinedBy::Digest));

        let grype = r#"{"version": "2.1.0", "runs": [{
  "tool": {"driver": {"name": "grype", "rules": [{"id": "CVE-2099-2-busybox",
     "help": {"text": "Vulnerability CVE-2099-2\nSeverity: medium\nPackage: busybox\nVersion: 1.36.1-r15\nFix Version: 1.36.1-r16\nType: apk"},
     "properties": {"security-severity": "9.8"}}]}},
  "results": [{"ruleId": "CVE-2099-2-busybox", "message": {"text": "busybox at 1.36.1-r15 is vulnerable"},
     "locations": [{"logicalLocations": [{"fullyQualifiedName": "alpine:3.19@sha256:abab:/lib/apk/db/installed"}]}]}]}]}"#;
        let r = &parse_report("g.sarif", grype).unwrap()[0];
        let v = &r.vulnerabilities[0];
        assert_eq!(v.id, "CVE-2099-2");
        // The labelled severity wins over the CVSS score.
        assert_eq!(v.severity, Some(Severity::Medium));
        assert_eq!(v.installed, "1.36.1-r15");
        assert_eq!(v.fixed.as_deref(), Some("1.36.1-r16"));
        assert_eq!(r.digests, vec!["sha256:abab"]);
        assert_eq!(r.joins(&img("alpine:3.19")), Some(JoinedBy::Reference));

        let anonymous =
            r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}"#;
        let e = parse_report("a.sarif", anonymous).unwrap_err();
        assert!(e.message.contains("does not name the scanned image"), "{e}");
    }

    #[test]
    fn operator_report() {
        let v: Value = serde_json::json!({
            "apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport",
            "metadata": {"name": "replicaset-web-1-web", "namespace": "shop"},
            "report": {
                "registry": {"server": "index.docker.io"},
                "artifact": {"repository": "library/nginx", "tag": "1.25.3", "digest": "sha256:f0f0"},
                "vulnerabilities": [{"vulnerabilityID": "CVE-2099-3", "resource": "curl",
                    "installedVersion": "7.88.1-10", "fixedVersion": "7.88.1-10+deb12u5",
                    "severity": "CRITICAL", "publishedDate": "2099-01-05T00:00:00Z"}]
            }
        });
        let r = from_operator_report("VulnerabilityReport shop/replicaset-web-1-web", &v).unwrap();
        assert_eq!(r.image, "index.docker.io/library/nginx:1.25.3");
        assert_eq!(r.joins(&img("nginx:1.25.3")), Some(JoinedBy::Reference));
        assert_eq!(r.joins(&img("nginx@sha256:f0f0")), Some(JoinedBy::Digest));
        assert_eq!(r.vulnerabilities[0].severity, Some(Severity::Critical));
        let bad = serde_json::json!({"kind": "VulnerabilityReport", "report": {"artifact": {}}});
        let e = from_operator_report("VulnerabilityReport a/b", &bad).unwrap_err();
        assert!(e.to_string().contains("missing `repository`"), "{e}");
    }
}
