//! The enumerated values of the flags, as clap `ValueEnum`s: clap parses them, lists them in
//! `--help` and names the valid ones when a value is wrong. The library types they stand for
//! (report formats, severities, Pod Security levels) know nothing of clap.

use clap::ValueEnum;
use palisade_core::{PssLevel, Severity};
use palisade_report::Format;
use std::io::IsTerminal;

/// `--format` of the commands that write a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// A table for people, grouped by object.
    Table,
    /// JSON (docs/json-report.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// Markdown, for pull-request comments.
    #[value(alias = "md")]
    Markdown,
    /// wgpolicyk8s.io/v1alpha2 PolicyReports and a ClusterPolicyReport.
    #[value(name = "policyreport")]
    PolicyReport,
    /// One self-contained HTML page.
    Html,
}

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Format {
        match f {
            ReportFormat::Table => Format::Table,
            ReportFormat::Json => Format::Json,
            ReportFormat::Sarif => Format::Sarif,
            ReportFormat::Junit => Format::Junit,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::PolicyReport => Format::PolicyReport,
            ReportFormat::Html => Format::Html,
        }
    }
}

/// `--format` of `palisade node`: the report formats but PolicyReports (which hold findings
/// on objects, not host checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum NodeFormat {
    /// A table for people, by section.
    Table,
    /// JSON (docs/json-report.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// Markdown.
    #[value(alias = "md")]
    Markdown,
    /// One self-contained HTML page.
    Html,
}

impl From<NodeFormat> for Format {
    fn from(f: NodeFormat) -> Format {
        match f {
            NodeFormat::Table => Format::Table,
            NodeFormat::Json => Format::Json,
            NodeFormat::Sarif => Format::Sarif,
            NodeFormat::Junit => Format::Junit,
            NodeFormat::Markdown => Format::Markdown,
            NodeFormat::Html => Format::Html,
        }
    }
}

/// `--format` of `palisade detect`: JSON lines, or a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DetectFormat {
    /// One alert per line, streamed.
    Jsonl,
    /// A table for people, grouped by object.
    Table,
    /// JSON (docs/json-report.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// Markdown.
    #[value(alias = "md")]
    Markdown,
    /// wgpolicyk8s.io/v1alpha2 PolicyReports.
    #[value(name = "policyreport")]
    PolicyReport,
    /// One self-contained HTML page.
    Html,
}

impl DetectFormat {
    /// The report format (`None` for JSON lines).
    pub(crate) fn report(self) -> Option<Format> {
        Some(match self {
            DetectFormat::Jsonl => return None,
            DetectFormat::Table => Format::Table,
            DetectFormat::Json => Format::Json,
            DetectFormat::Sarif => Format::Sarif,
            DetectFormat::Junit => Format::Junit,
            DetectFormat::Markdown => Format::Markdown,
            DetectFormat::PolicyReport => Format::PolicyReport,
            DetectFormat::Html => Format::Html,
        })
    }
}

/// `--format` of `palisade diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

/// `--fail-on`: a severity, or `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Critical findings only.
    Critical,
    /// High and critical.
    High,
    /// Medium and above.
    Medium,
    /// Low and above.
    Low,
    /// Every finding.
    Info,
    /// Never fail on findings.
    None,
}

impl FailOn {
    /// The threshold (`None` for `none`).
    pub(crate) fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}

/// `--profile`: the Pod Security Standards level of the POD rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Profile {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening good practice.
    Restricted,
}

impl From<Profile> for PssLevel {
    fn from(p: Profile) -> PssLevel {
        match p {
            Profile::Privileged => PssLevel::Privileged,
            Profile::Baseline => PssLevel::Baseline,
            Profile::Restricted => PssLevel::Restricted,
        }
    }
}

/// `--color` of the commands that write a table.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to stdout (never when it goes to a file, a pipe, or
    /// with `NO_COLOR`, unless asked for).
    pub(crate) fn enabled(self, to_file: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !to_file
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value clap accepts is one the library parses to the same thing, so the two lists
    /// cannot drift apart.
    #[test]
    fn values_agree_with_the_library_parsers() {
        for f in ReportFormat::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name.parse::<Format>(), Ok(Format::from(*f)), "{name}");
        }
        for f in NodeFormat::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name.parse::<Format>(), Ok(Format::from(*f)), "{name}");
        }
        for f in DetectFormat::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_owned();
            match f.report() {
                Some(r) => assert_eq!(name.parse::<Format>(), Ok(r), "{name}"),
                None => assert_eq!(name, "jsonl"),
            }
        }
        for f in FailOn::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_owned();
            match f.severity() {
                Some(s) => assert_eq!(name.parse::<Severity>().ok(), Some(s), "{name}"),
                None => assert_eq!(name, "none"),
            }
        }
        for p in Profile::value_variants() {
            let name = p.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name.parse::<PssLevel>(), Ok(PssLevel::from(*p)), "{name}");
        }
        assert_eq!(
            ReportFormat::from_str("md", false),
            Ok(ReportFormat::Markdown)
        );
        assert_eq!(FailOn::from_str("HIGH", true), Ok(FailOn::High));
    }
}
