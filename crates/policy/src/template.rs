//! ConstraintTemplates (`templates.gatekeeper.sh` v1, v1beta1, v1alpha1): the constraint kind
//! they define, the schema of its parameters, and the engine blocks that hold the policy.

use crate::rego::{RegoProgram, RegoVersion};
use crate::LoadError;
use palisade_core::object::string_list;
use palisade_core::Object;
use serde_json::Value;

/// The API group of ConstraintTemplates.
pub const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
/// The target Gatekeeper's Kubernetes admission templates are written for.
pub const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// One engine block of a template.
#[derive(Debug)]
pub enum Engine {
    /// Rego (`rego:` + `libs:` of the target, or a `code` block with `engine: Rego`).
    Rego(Box<RegoProgram>),
    /// A `code` block with `engine: K8sNativeValidation` (CEL), compiled once at load.
    Cel(Box<CelCode>),
}

impl Engine {
    /// The engine's name as Gatekeeper writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Rego(_) => "Rego",
            Engine::Cel(_) => "K8sNativeValidation",
        }
    }
}

/// A template's `K8sNativeValidation` code block: as written, and compiled.
#[derive(Debug)]
pub struct CelCode {
    /// The `source` of the code block, as written.
    pub source: Value,
    /// The compiled block.
    pub compiled: palisade_cel::CompiledGatekeeperCode,
}

/// A loaded ConstraintTemplate.
#[derive(Debug)]
pub struct Template {
    /// `metadata.name` (the lower-case kind, by Gatekeeper's convention).
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// The schema of the constraints' `parameters` (`openAPIV3Schema`), when given.
    pub schema: Option<Value>,
    /// Its engine blocks, in the order written.
    pub engines: Vec<Engine>,
    /// The `description` or `metadata.gatekeeper.sh/title` annotation.
    pub description: Option<String>,
    /// Where it was read (`file:line`), when from a file.
    pub source: Option<palisade_core::SourceLoc>,
    /// The kinds its `metadata.gatekeeper.sh/requires-sync-data` annotation says the
    /// template reads from `data.inventory` (`None` without the annotation).
    pub sync_kinds: Option<Vec<String>>,
}

impl Template {
    /// The Rego program, when the template has one.
    pub fn rego(&self) -> Option<&RegoProgram> {
        self.engines.iter().find_map(|e| match e {
            Engine::Rego(p) => Some(&**p),
            Engine::Cel(_) => None,
        })
    }

    /// The CEL (`K8sNativeValidation`) code block, when the template has one.
    pub fn cel(&self) -> Option<&CelCode> {
        self.engines.iter().find_map(|e| match e {
            Engine::Cel(c) => Some(&**c),
            Engine::Rego(_) => None,
        })
    }
}

/// True when the object is a ConstraintTemplate.
pub fn is_template(o: &Object) -> bool {
    o.kind == "ConstraintTemplate" && o.group() == TEMPLATE_GROUP
}

pub(crate) fn err(o: &Object, pointer: &str, reason: impl Into<String>) -> LoadError {
    let (file, line, column) = match &o.source {
        Some(s) => {
            let (l, c) = o.spans.resolve(pointer).unwrap_or((s.line, s.column));
            (s.file.to_string(), l, c)
        }
        None => (format!("{} {}", o.kind, o.name), 0, 0),
    };
    LoadError {
        file,
        line,
        column,
        message: reason.into(),
    }
}

/// The annotation by which a referential template names the kinds it reads from
/// `data.inventory` (the kinds Gatekeeper must sync).
pub const REQUIRES_SYNC_DATA: &str = "metadata.gatekeeper.sh/requires-sync-data";

/// The kinds of a `requires-sync-data` annotation: a JSON list of requirements, each a list of
/// equivalent `{groups, versions, kinds}` entries, the whole usually written inside a pair of
/// double quotes (`"[[{...}]]"`).
pub fn sync_kinds(annotation: &str) -> Result<Vec<String>, String> {
    let text = annotation.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let requirements = v
        .as_array()
        .ok_or("expected a list of requirements, each a list of {groups, versions, kinds}")?;
    let mut kinds: Vec<String> = Vec::new();
    for (i, r) in requirements.iter().enumerate() {
        let entries = r
            .as_array()
            .ok_or_else(|| format!("requirement {i} is not a list"))?;
        for e in entries {
            let ks = e
                .get("kinds")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("requirement {i} has an entry without `kinds`"))?;
            for k in ks {
                let k = k
                    .as_str()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| format!("requirement {i} has a kind that is not a name"))?;
                if !kinds.iter().any(|x| x == k) {
                    kinds.push(k.to_owned());
                }
            }
        }
    }
    Ok(kinds)
}

/// Reads and compiles a ConstraintTemplate.
pub fn parse(o: &Object) -> Result<Template, LoadError> {
    let v = o.value();
    let what = format!("ConstraintTemplate `{}`", o.name);
    let kind = v
        .pointer("/spec/crd/spec/names/kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            err(
                o,
                "/spec/crd/spec/names",
                format!("{what} has no spec.crd.spec.names.kind (the constraint kind it defines)"),
            )
        })?
        .to_owned();
    if o.name.is_empty() {
        return Err(err(o, "/metadata", format!("{what} has no metadata.name")));
    }
    if !o.name.eq_ignore_ascii_case(&kind) {
        return Err(err(
            o,
            "/metadata/name",
            format!("{what}: metadata.name must be the lower-case constraint kind (`{}`), as Gatekeeper requires", kind.to_ascii_lowercase()),
        ));
    }
    let schema = v
        .pointer("/spec/crd/spec/validation/openAPIV3Schema")
        .cloned()
        .filter(|s| !s.is_null());
    let targets = v
        .pointer("/spec/targets")
        .and_then(Value::as_array)
        .ok_or_else(|| err(o, "/spec", format!("{what} has no spec.targets")))?;
    let Some((ti, target)) = targets
        .iter()
        .enumerate()
        .find(|(_, t)| t.get("target").and_then(Value::as_str) == Some(ADMISSION_TARGET))
    else {
        return Err(err(
            o,
            "/spec/targets",
            format!("{what} has no target `{ADMISSION_TARGET}`"),
        ));
    };
    let tp = format!("/spec/targets/{ti}");
    let mut engines = Vec::new();
    if let Some(code) = target.get("code").and_then(Value::as_array) {
        for (ci, block) in code.iter().enumerate() {
            let cp = format!("{tp}/code/{ci}");
            match block.get("engine").and_then(Value::as_str) {
                Some("Rego") => {
                    let src = block.get("source").unwrap_or(&Value::Null);
                    let Some(rego) = src.get("rego").and_then(Value::as_str) else {
                        return Err(err(
                            o,
                            &cp,
                            format!("{what}: the Rego code block has no source.rego"),
                        ));
                    };
                    let version = match src.get("version").and_then(Value::as_str) {
                        Some("v1") => RegoVersion::V1,
                        None | Some("v0") => RegoVersion::V0,
                        Some(other) => {
                            return Err(err(
                                o,
                                &format!("{cp}/source/version"),
                                format!(
                                    "{what}: unknown Rego version `{other}` (expected v0 or v1)"
                                ),
                            ))
                        }
                    };
                    let libs = string_list(src.get("libs"));
                    let program = RegoProgram::compile(rego, &libs, version).map_err(|e| {
                        err(
                            o,
                            &format!("{cp}/source/rego"),
                            format!("{what}: Rego does not compile: {e}"),
                        )
                    })?;
                    engines.push(Engine::Rego(Box::new(program)));
                }
                Some("K8sNativeValidation") => {
                    let source = block.get("source").cloned().unwrap_or(Value::Null);
                    let compiled = palisade_cel::CompiledGatekeeperCode::compile_with(
                        crate::kube_cel(),
                        &source,
                    )
                    .map_err(|e| {
                        err(
                            o,
                            &format!("{cp}/source"),
                            format!(
                                "{what}: the K8sNativeValidation (CEL) code does not compile: {e}"
                            ),
                        )
                    })?;
                    engines.push(Engine::Cel(Box::new(CelCode { source, compiled })));
                }
                Some(other) => {
                    return Err(err(
                        o,
                        &format!("{cp}/engine"),
                        format!(
                        "{what}: unknown engine `{other}` (expected Rego or K8sNativeValidation)"
                    ),
                    ))
                }
                None => return Err(err(o, &cp, format!("{what}: a code block has no engine"))),
            }
        }
    }
    if let Some(rego) = target.get("rego").and_then(Value::as_str) {
        if !engines.iter().any(|e| matches!(e, Engine::Rego(_))) {
            let libs = string_list(target.get("libs"));
            let program = RegoProgram::compile(rego, &libs, RegoVersion::V0).map_err(|e| {
                err(
                    o,
                    &format!("{tp}/rego"),
                    format!("{what}: Rego does not compile: {e}"),
                )
            })?;
            engines.push(Engine::Rego(Box::new(program)));
        }
    }
    if engines.is_empty() {
        return Err(err(
            o,
            &tp,
            format!("{what} has neither `rego` nor a `code` block for target {ADMISSION_TARGET}"),
        ));
    }
    let description = o
        .annotation("description")
        .or_else(|| o.annotation("metadata.gatekeeper.sh/title"))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    let sync_kinds = match o.annotation(REQUIRES_SYNC_DATA) {
        Some(a) => Some(sync_kinds(a).map_err(|e| {
            err(
                o,
                "/metadata/annotations",
                format!("{what}: annotation {REQUIRES_SYNC_DATA}: {e}"),
            )
        })?),
        None => None,
    };
    Ok(Template {
        name: o.name.clone(),
        kind,
        schema,
        engines,
        description,
        source: o.source.clone(),
        sync_kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::sync_kinds;

    #[test]
    fn requires_sync_data_names_the_kinds() {
        let a = r#"
      "[
        [
          {"groups": ["extensions"], "versions": ["v1beta1"], "kinds": ["Ingress"]},
          {"groups": ["networking.k8s.io"], "versions": ["v1beta1", "v1"], "kinds": ["Ingress"]}
        ],
        [{"groups": [""], "versions": ["v1"], "kinds": ["Service"]}]
      ]"
"#;
        assert_eq!(sync_kinds(a).unwrap(), ["Ingress", "Service"]);
        assert_eq!(sync_kinds("[]").unwrap(), Vec::<String>::new());
        assert!(sync_kinds("[[{\"groups\": [\"\"]}]]")
            .unwrap_err()
            .contains("without `kinds`"));
        assert!(sync_kinds("\"[[\"").unwrap_err().starts_with("not JSON"));
        assert!(sync_kinds("{}").is_err());
    }
}
