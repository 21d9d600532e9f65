use super::{describe_value, embedded};
use palisade_core::object::escape_segment;
use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// ConfigMaps whose `data` holds credentials: a key named like a credential
    /// (`password`, `db-password`, `apiKey`, `OCI_CLI_KEY_CONTENT`, `STORAGE_ACCOUNT_KEY`...)
    /// with a literal value that is not a placeholder, or any value with the shape of a
    /// credential (a PEM private key, a cloud access key, a known token format, a URL or
    /// connection string with an inline password).
    ///
    /// A value that is a file is read as the file it is, and each credential inside is
    /// reported with its setting and its line in the value: `.env` lines (`DB_PASSWORD=...`,
    /// `export X=...`), ini, TOML and `.conf` lines (`password = ...`), Java properties
    /// (`db.password: ...`), JSON and YAML documents at any depth (`{"apiKey": "..."}`,
    /// `notifier.slack.token`). The key's extension gives the format; a key without a known
    /// one is read by its content (JSON when it starts with `{` or `[`, `NAME=value` lines
    /// when most of its lines are, YAML otherwise). Scripts, code, templates and certificates
    /// (`.sh`, `.py`, `.tpl`, `.pem`...) are not read as settings (a private key in them is
    /// still found by its shape), and in a setting an expression (`os.environ["PW"]`,
    /// `get_password()`, `self.password`) is code, not a literal.
    ///
    /// Not reported, as obviously not secret: empty values; placeholders (`${VAR}`, `$(VAR)`,
    /// `{{ .Values.x }}`, `<redacted>`, `********`, Argo CD's `$secret:key`, Grafana's
    /// `$__file{...}`) and well-known stand-ins (`changeme`, `changeit`, `password`,
    /// `example`), which reveal nothing (a default password left in place is a problem of its
    /// own, not a leak); references to files or stores (`/run/secrets/db`, `file:...`,
    /// `vault:...`); booleans; numbers, unless the name says password (`MYSQL_PASSWORD:
    /// "1234"` is a weak password, `SECRET_TTL: "3600"` a duration); names that only look
    /// like credential names (`KEY`, `keyspace`, `monkey`, `public_key`, `keyring-path`,
    /// `PASSWORD_FILE`).
    ///
    /// The finding names the key and, for a file, the setting and its line (`key app.env
    /// holds a credential in DB_PASSWORD, line 4 of the value`, with `field` and `line`
    /// properties); the value is never printed or stored.
    ///
    /// ## Why it matters
    /// ConfigMaps are not secrets: they are readable by every role that can read
    /// configuration (`view` included), are never encrypted at rest, and end up in logs,
    /// dashboards and backups.
    ///
    /// ## How to fix
    /// Move the credential into a Secret (from an external store through the Secrets Store CSI
    /// driver where possible), mount it as a file, and rotate it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   DB_PASSWORD: "s3cr3t-prod-pw"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Secret
    /// type: Opaque
    /// # created out of band or synced from a vault; not committed
    /// ```
    pub(crate) struct CredentialsInConfigMap;
    id: "SEC003",
    name: "credentials-in-configmap",
    severity: High,
    summary: "ConfigMap holds a credential",
    references: ["nist:4.1.4", "nsa:secrets", "owasp:K08", "cis:5.4.1", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: &["ConfigMap"],
    options: &[],
}

impl Rule for CredentialsInConfigMap {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "ConfigMap" || object.group() != "" {
            return;
        }
        let Some(data) = object.pointer("/data").and_then(Value::as_object) else {
            return;
        };
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                continue;
            };
            let settings = embedded::entries(key, value).unwrap_or_default();
            let mut found = false;
            for e in &settings {
                let Some(what) = classify_setting(e) else {
                    continue;
                };
                found = true;
                cx.report(
                    format!("/data/{}", escape_segment(key)),
                    format!(
                        "key {key} holds {what} in {}, line {} of the value ({})",
                        e.field,
                        e.line,
                        describe_value(&e.value)
                    ),
                )
                .fix(format!(
                    "move {} out of {key} into a Secret (mounted as a file, or passed to the configuration through an environment variable); rotate it",
                    e.field
                ))
                .property("key", key.as_str())
                .property("field", e.field.as_str())
                .property("line", e.line.to_string());
            }
            if found {
                continue;
            }
            let Some(what) = super::classify(key, value) else {
                continue;
            };
            cx.report(
                format!("/data/{}", escape_segment(key)),
                format!("key {key} holds {what} ({})", describe_value(value)),
            )
            .fix(format!(
                "move {key} into a Secret and mount it as a file; rotate it"
            ))
            .property("key", key.as_str());
        }
    }
}

/// The credential a setting of a file-like value holds: as for a plain key and value, except
/// that an expression (`os.environ["PW"]`, `get_token()`, `self.password`) is code, not a
/// literal.
fn classify_setting(e: &embedded::Entry) -> Option<&'static str> {
    let v = e.value.trim();
    let code = v
        .find(['(', '['])
        .is_some_and(|i| i > 0 && is_dotted_identifier(&v[..i]))
        || ["self.", "this.", "process.env."]
            .iter()
            .any(|p| v.starts_with(p));
    if code && super::credential_shape(v).is_none() {
        return None;
    }
    super::classify(&e.name, v)
}

/// `os.environ`, `self.password`, `request.form`: an identifier path.
fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_fixture;

    /// Every literal credential of the fail fixtures; none may appear in a finding.
    const VALUES: &[&str] = &[
        "Pr0d-DB-pw-2024!",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "123456",
        "hunter2-prod",
        "s3cr3t-Ini-pw",
        "kq8Zt3LmX0vR7pK2wYc9N",
        "tok-9f86d081884c7d659a2feaa0",
        "partner-s3cret-2024",
        "somerandomtoken",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "dGhpcyBpcyBub3QgYSByZWFsIGtleSBidXQgbG9uZw==",
    ];

    #[test]
    fn settings_are_reported_by_field_and_line_never_by_value() {
        let mut seen = Vec::new();
        for file in [
            "fail_env_file.yaml",
            "fail_properties_ini.yaml",
            "fail_json_yaml_blobs.yaml",
            "fail_key_content.yaml",
        ] {
            for (_, f) in run_fixture(&CredentialsInConfigMap, file) {
                let text = format!("{} {:?} {:?}", f.message, f.fix, f.properties);
                for v in VALUES {
                    assert!(!text.contains(v), "{file}: {text}");
                }
                if let Some(field) = f.properties.get("field") {
                    seen.push((
                        field.clone(),
                        f.properties.get("line").cloned().unwrap_or_default(),
                    ));
                }
            }
        }
        for (field, line) in [
            ("DB_PASSWORD", "4"),
            ("STRIPE_KEY", "5"),
            ("MYSQL_ROOT_PASSWORD", "7"),
            ("db.password", "4"),
            ("password", "3"),
            ("apiKey", "1"),
            ("notifier.slack.token", "9"),
            ("clients[0].clientSecret", "12"),
            ("extensions.bearertokenauth.token", "3"),
        ] {
            assert!(
                seen.contains(&(field.to_owned(), line.to_owned())),
                "{field} line {line} not in {seen:?}"
            );
        }
        assert_eq!(seen.len(), 9, "{seen:?}");
    }

    #[test]
    fn code_is_not_a_literal() {
        let setting = |value: &str| embedded::Entry {
            field: "PASSWORD".into(),
            name: "PASSWORD".into(),
            line: 1,
            value: value.into(),
        };
        for v in [
            "os.environ[\"PW\"]",
            "get_password()",
            "self.password",
            "process.env.PW",
        ] {
            assert_eq!(classify_setting(&setting(v)), None, "{v}");
        }
        assert_eq!(
            classify_setting(&setting("hunter2-prod")),
            Some("a credential")
        );
        assert_eq!(
            classify_setting(&setting("fn(AKIAIOSFODNN7EXAMPLE)")),
            Some("an AWS access key id"),
            "a known shape is reported even inside code"
        );
    }
}
