use super::describe_value;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Environment variables of any container (regular, init, ephemeral) whose literal
    /// `value` is a credential: the variable's name says it holds one (`DB_PASSWORD`,
    /// `API_KEY`, `clientSecret`...) and the value is not a placeholder or a reference, or the
    /// value has the shape of one whatever the name (a PEM private key, a cloud access key, a
    /// known token format, a JSON Web Token, a URL or connection string with an inline
    /// password). Names that only may hold a credential (`ENCRYPTION_KEY`, `SIGNING_KEY`,
    /// `SESSION_SALT`, but not `CACHE_KEY` or `PUBLIC_KEY`) are reported when the value looks
    /// randomly generated (16+ characters, mixed character classes, high entropy).
    /// Placeholders (`changeme`, `<password>`, `${VAR}`, `$(VAR)`, `{{ .Values.x }}`,
    /// `********`, file paths, `file:`/`vault:` references) and references pass, as do
    /// variables filled from a Secret (`valueFrom.secretKeyRef`). Booleans never count, and
    /// numbers only under a password name (`MYSQL_PASSWORD=1234` is reported,
    /// `TOKEN_TTL_SECONDS=3600` is not). Key material by name counts (`OCI_CLI_KEY_CONTENT`,
    /// `STORAGE_ACCOUNT_KEY`); public halves do not (`PUBLIC_KEY`, `publishableKey`). SEC003
    /// shares this classifier.
    ///
    /// The finding names the variable and the kind of credential; the value itself is never
    /// printed or stored, in any output format.
    ///
    /// ## Why it matters
    /// A literal credential in a manifest lives in git history, CI logs, the API server's
    /// objects (readable by anyone who can `get` the workload) and `kubectl describe`
    /// output. Rotating it means finding every copy.
    ///
    /// ## How to fix
    /// Move the value into a Secret (ideally synced from an external store through the Secrets
    /// Store CSI driver) and reference it with `valueFrom.secretKeyRef`, or better, mount it as
    /// a file. Rotate the exposed credential.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   value: "s3cr3t-prod-pw"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: { name: db-credentials, key: password }
    /// ```
    pub(crate) struct LiteralSecretInEnv;
    id: "SEC002",
    name: "literal-secret-in-env",
    severity: High,
    summary: "Environment variable holds a literal credential",
    references: ["nist:4.1.4", "nsa:secrets", "owasp:K08", "cis:5.4.1", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for LiteralSecretInEnv {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod.containers() {
            let Some(env) = c.get("env").and_then(Value::as_array) else {
                continue;
            };
            for (i, e) in env.iter().enumerate() {
                let name = e.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(value) = e.get("value").and_then(Value::as_str) else {
                    continue;
                };
                let Some(what) = super::classify(name, value) else {
                    continue;
                };
                cx.report(
                    c.pointer(&format!("/env/{i}/value")),
                    format!(
                        "{} env var {name} holds {what} ({})",
                        c.describe(),
                        describe_value(value)
                    ),
                )
                .fix(format!("move {name} into a Secret and use valueFrom.secretKeyRef (or a mounted file); rotate it"))
                .property("container", c.name)
                .property("env", name);
            }
        }
    }
}
