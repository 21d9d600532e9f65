use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) that receive a Secret as environment variables:
    /// an `env` entry with `valueFrom.secretKeyRef`, or an `envFrom` entry with `secretRef`.
    ///
    /// ## Why it matters
    /// Environment variables leak more easily than files: they are inherited by every child
    /// process, printed by crash reporters and debug endpoints, visible in
    /// `/proc/<pid>/environ`, and they cannot be rotated without restarting the pod. A
    /// mounted Secret volume is updated in place and can be read by the one process that
    /// needs it.
    ///
    /// ## How to fix
    /// Mount the Secret as a volume (read-only, with a restrictive `defaultMode`) and have the
    /// application read the file, e.g. through a `*_FILE` variable.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: { name: db, key: password }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD_FILE
    ///   value: /run/secrets/db/password
    /// volumeMounts:
    /// - { name: db, mountPath: /run/secrets/db, readOnly: true }
    /// ```
    pub(crate) struct SecretInEnvVar;
    id: "SEC005",
    name: "secret-in-env-var",
    severity: Low,
    summary: "Secret is passed as environment variables instead of a mounted file",
    references: ["cis:5.4.1", "nsa:secrets", "nist:4.1.4", "owasp:K08", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SecretInEnvVar {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod.containers() {
            for (i, e) in c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(r) = e.pointer("/valueFrom/secretKeyRef") else {
                    continue;
                };
                let var = e.get("name").and_then(Value::as_str).unwrap_or("");
                let secret = r.get("name").and_then(Value::as_str).unwrap_or("");
                cx.report(
                    c.pointer(&format!("/env/{i}/valueFrom/secretKeyRef")),
                    format!(
                        "{} env var {var} is read from Secret \"{secret}\"",
                        c.describe()
                    ),
                )
                .fix("mount the Secret as a read-only volume and read the file")
                .property("container", c.name)
                .property("secret", secret);
            }
            for (i, e) in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(r) = e.get("secretRef") else {
                    continue;
                };
                let secret = r.get("name").and_then(Value::as_str).unwrap_or("");
                cx.report(
                    c.pointer(&format!("/envFrom/{i}/secretRef")),
                    format!(
                        "{} imports every key of Secret \"{secret}\" as env vars",
                        c.describe()
                    ),
                )
                .fix("mount the Secret as a read-only volume and read the files")
                .property("container", c.name)
                .property("secret", secret);
            }
        }
    }
}
