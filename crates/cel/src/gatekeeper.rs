//! Gatekeeper ConstraintTemplate code blocks with `engine: K8sNativeValidation`.
//!
//! A code block's `source` holds `variables` (computed when first read, at most once per
//! request), `validations` and optional
//! `matchConditions`, evaluated as a ValidatingAdmissionPolicy would be, with the variables
//! Gatekeeper adds:
//!
//! * `object`, `oldObject`, `request` (and `namespaceObject`, null unless given);
//! * `params`: the constraint, whose `spec.parameters` are the constraint's parameters;
//! * `variables.params`: those parameters; an empty map when the constraint has none, so
//!   that templates' `has(variables.params.x)` is false, as the library's suites expect
//!   (Gatekeeper defines it as `null` then, on which the `cel` crate's `has()` fails);
//! * `variables.anyObject`: `object`, or `oldObject` on a DELETE (where `object` is null).
//!
//! Presence tests are read as Gatekeeper's templates expect: `has(a.b.c)` is false when
//! `a.b` is absent (see [`KubeCel::compile_lenient`]).
//!
//! A validation that evaluates to false is a violation whose message is the
//! `messageExpression`'s value, else `message`. A runtime error in any validation is an
//! error of the whole evaluation: it is never taken as a pass.

use serde_json::json;

use crate::env::Vals;
use crate::json::json_to_val;
use crate::program::{check_refs, compile_vars, Evaluation, Given, VarDef};
use crate::{CelError, Compiled, KubeCel, Request};

/// A failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The message.
    pub message: String,
    /// The index of the validation in `source.validations`.
    pub validation: usize,
}

#[derive(Debug, Clone)]
struct Validation {
    expression: Compiled,
    message: Option<String>,
    message_expression: Option<Compiled>,
}

#[derive(Debug, Clone)]
struct MatchCondition {
    name: String,
    expression: Compiled,
}

/// A compiled `K8sNativeValidation` code block: compile once per template, evaluate per
/// object.
#[derive(Debug, Clone)]
pub struct CompiledGatekeeperCode {
    cel: KubeCel,
    variables: Vec<VarDef>,
    match_conditions: Vec<MatchCondition>,
    validations: Vec<Validation>,
}

/// The variables Gatekeeper defines before a template's own.
const PREDEFINED: &[&str] = &["params", "anyObject"];

fn invalid(path: &str, message: impl Into<String>) -> CelError {
    CelError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn str_field<'a>(
    v: &'a serde_json::Value,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, CelError> {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "must be a string")),
    }
}

fn list_field<'a>(
    v: &'a serde_json::Value,
    key: &str,
    path: &str,
) -> Result<&'a [serde_json::Value], CelError> {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => Ok(&[]),
        Some(serde_json::Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "must be a list")),
    }
}

impl CompiledGatekeeperCode {
    /// Compiles a code block (`{engine: K8sNativeValidation, source: {...}}`) or its bare
    /// `source`. Every expression is compiled here: one that does not parse, or that reads
    /// a variable not defined before it, is an error naming its field path.
    pub fn compile(code_block: &serde_json::Value) -> Result<CompiledGatekeeperCode, CelError> {
        CompiledGatekeeperCode::compile_with(&KubeCel::new(), code_block)
    }

    /// As [`CompiledGatekeeperCode::compile`], sharing an environment.
    pub fn compile_with(
        cel: &KubeCel,
        code_block: &serde_json::Value,
    ) -> Result<CompiledGatekeeperCode, CelError> {
        if let Some(engine) = str_field(code_block, "engine", "code")? {
            if engine != "K8sNativeValidation" {
                return Err(invalid(
                    "code.engine",
                    format!("engine {engine:?} is not K8sNativeValidation"),
                ));
            }
        }
        let source = code_block.get("source").unwrap_or(code_block);
        if !source.is_object() {
            return Err(invalid("source", "must be an object"));
        }
        let mut defs = Vec::new();
        for (i, v) in list_field(source, "variables", "source")?
            .iter()
            .enumerate()
        {
            let at = format!("source.variables[{i}]");
            let name = str_field(v, "name", &at)?.unwrap_or_default().to_owned();
            let expr = str_field(v, "expression", &at)?
                .ok_or_else(|| invalid(&format!("{at}.expression"), "is required"))?
                .to_owned();
            defs.push((name, expr));
        }
        let variables = compile_vars(cel, &defs, PREDEFINED, "source.variables", true)?;
        let known = |n: &str| PREDEFINED.contains(&n) || variables.iter().any(|v| v.name == n);
        let compile = |expr: &str, path: &str| -> Result<Compiled, CelError> {
            let c = cel
                .compile_lenient(expr)
                .map_err(|e| invalid(path, e.to_string()))?;
            check_refs(&c, &known, path)?;
            Ok(c)
        };
        let mut match_conditions = Vec::new();
        for (i, m) in list_field(source, "matchConditions", "source")?
            .iter()
            .enumerate()
        {
            let at = format!("source.matchConditions[{i}]");
            let expr = str_field(m, "expression", &at)?
                .ok_or_else(|| invalid(&format!("{at}.expression"), "is required"))?;
            match_conditions.push(MatchCondition {
                name: str_field(m, "name", &at)?.unwrap_or_default().to_owned(),
                expression: compile(expr, &format!("{at}.expression"))?,
            });
        }
        let mut validations = Vec::new();
        for (i, v) in list_field(source, "validations", "source")?
            .iter()
            .enumerate()
        {
            let at = format!("source.validations[{i}]");
            let expr = str_field(v, "expression", &at)?
                .ok_or_else(|| invalid(&format!("{at}.expression"), "is required"))?;
            let message_expression = str_field(v, "messageExpression", &at)?
                .map(|m| compile(m, &format!("{at}.messageExpression")))
                .transpose()?;
            validations.push(Validation {
                expression: compile(expr, &format!("{at}.expression"))?,
                message: str_field(v, "message", &at)?.map(str::to_owned),
                message_expression,
            });
        }
        if validations.is_empty() {
            return Err(invalid(
                "source.validations",
                "a code block needs validations",
            ));
        }
        Ok(CompiledGatekeeperCode {
            cel: cel.clone(),
            variables,
            match_conditions,
            validations,
        })
    }

    /// Evaluates the code block for one request, with the constraint's
    /// `spec.parameters` (`None` when it has none). Returns the violations, or the first
    /// error (a match condition or validation that fails to evaluate).
    pub fn evaluate(
        &self,
        req: &Request,
        parameters: Option<&serde_json::Value>,
    ) -> Result<Vec<Violation>, CelError> {
        self.evaluate_in(req, parameters, None)
    }

    /// As [`CompiledGatekeeperCode::evaluate`], with the namespace object of the request.
    pub fn evaluate_in(
        &self,
        req: &Request,
        parameters: Option<&serde_json::Value>,
        namespace: Option<&serde_json::Value>,
    ) -> Result<Vec<Violation>, CelError> {
        self.evaluate_each(req, parameters, namespace)
            .into_iter()
            .collect()
    }

    /// Every result of one request: a violation per validation that evaluated to false,
    /// and an error per validation that failed to evaluate (or a single error when a
    /// match condition failed to evaluate), in the order of `source.validations`; empty
    /// when a match condition is false or every validation holds.
    pub fn evaluate_each(
        &self,
        req: &Request,
        parameters: Option<&serde_json::Value>,
        namespace: Option<&serde_json::Value>,
    ) -> Vec<Result<Violation, CelError>> {
        // `parameters: null` is no parameters
        let parameters = parameters.filter(|p| !p.is_null());
        let mut vals = Vals::default();
        let null = serde_json::Value::Null;
        vals.set_json("object", req.object.as_ref().unwrap_or(&null), true);
        vals.set_json("oldObject", req.old_object.as_ref().unwrap_or(&null), true);
        vals.set_json("request", &req.to_value(), false);
        vals.set_json("namespaceObject", namespace.unwrap_or(&null), true);
        let params_value = match parameters {
            Some(p) => json!({"spec": {"parameters": p}}),
            None => json!({"spec": {}}),
        };
        vals.set_json("params", &params_value, true);
        let any_object = if req.operation == "DELETE" && req.object.is_none() {
            "oldObject"
        } else {
            "object"
        };
        let given = vec![
            (
                "params".to_owned(),
                Given::Value(json_to_val(parameters.unwrap_or(&json!({})), true)),
            ),
            ("anyObject".to_owned(), Given::Alias(any_object)),
        ];
        let ev = Evaluation::new(&self.cel, vals, given, &self.variables);
        for (i, m) in self.match_conditions.iter().enumerate() {
            match ev.eval_bool(&m.expression) {
                Ok(true) => {}
                Ok(false) => return Vec::new(),
                Err(e) => {
                    return vec![Err(CelError::Evaluation(format!(
                        "source.matchConditions[{i}] ({}): {e}",
                        m.name
                    )))]
                }
            }
        }
        let mut out = Vec::new();
        for (i, v) in self.validations.iter().enumerate() {
            match ev.eval_bool(&v.expression) {
                Ok(true) => {}
                Ok(false) => out.push(Ok(Violation {
                    message: ev.message(
                        &v.expression,
                        v.message.as_deref(),
                        v.message_expression.as_ref(),
                    ),
                    validation: i,
                })),
                Err(e) => out.push(Err(CelError::Evaluation(format!(
                    "source.validations[{i}]: {e}"
                )))),
            }
        }
        out
    }
}

/// Compiles and evaluates a code block once; see [`CompiledGatekeeperCode`] to compile a
/// template once for many objects.
pub fn evaluate_gatekeeper_code(
    code_block: &serde_json::Value,
    req: &Request,
    parameters: Option<&serde_json::Value>,
) -> Result<Vec<Violation>, CelError> {
    CompiledGatekeeperCode::compile(code_block)?.evaluate(req, parameters)
}

/// The `K8sNativeValidation` code block of a ConstraintTemplate, if it has one
/// (`spec.targets[].code[]`).
pub fn native_validation_code(template: &serde_json::Value) -> Option<&serde_json::Value> {
    template
        .pointer("/spec/targets")?
        .as_array()?
        .iter()
        .filter_map(|t| t.get("code")?.as_array())
        .flatten()
        .find(|c| c.get("engine").and_then(|e| e.as_str()) == Some("K8sNativeValidation"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(host_pid: bool) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"hostPID": host_pid, "containers": [{"name": "c", "image": "nginx"}]}})
    }

    fn code() -> serde_json::Value {
        json!({"engine": "K8sNativeValidation", "source": {
        "variables": [
            {"name": "pid", "expression": "has(variables.anyObject.spec.hostPID) && variables.anyObject.spec.hostPID"},
            {"name": "allowed", "expression": "has(variables.params.allowHostPID) && variables.params.allowHostPID"},
            {"name": "broken", "expression": "1 / 0 == 1"}
        ],
        "validations": [
            {"expression": "request.operation == 'UPDATE' || !variables.pid || variables.allowed",
             "messageExpression": "'host PID is not allowed: ' + variables.anyObject.metadata.name"},
            {"expression": "true", "message": "never"}
        ]}})
    }

    #[test]
    fn violations_follow_validations_and_params() {
        let c = CompiledGatekeeperCode::compile(&code()).unwrap();
        let v = c.evaluate(&Request::for_object(&pod(true)), None).unwrap();
        assert_eq!(
            v,
            vec![Violation {
                message: "host PID is not allowed: p".into(),
                validation: 0
            }]
        );
        assert!(c
            .evaluate(&Request::for_object(&pod(false)), None)
            .unwrap()
            .is_empty());
        assert!(c
            .evaluate(&Request::for_object(&pod(false)), Some(&json!(null)))
            .unwrap()
            .is_empty());
        let params = json!({"allowHostPID": true});
        assert!(c
            .evaluate(&Request::for_object(&pod(true)), Some(&params))
            .unwrap()
            .is_empty());
        // an unused failing variable is never evaluated
        assert!(c.variables.iter().any(|v| v.name == "broken"));
    }

    #[test]
    fn any_object_is_the_old_object_on_delete() {
        let c = CompiledGatekeeperCode::compile(&code()).unwrap();
        let mut req = Request::for_object(&pod(true));
        req.operation = "DELETE".into();
        req.old_object = req.object.take();
        assert_eq!(c.evaluate(&req, None).unwrap().len(), 1);
    }

    #[test]
    fn each_result_is_kept() {
        let block = json!({"source": {"validations": [
            {"expression": "false", "message": "first"},
            {"expression": "object.spec.missing == 1"},
            {"expression": "false", "message": "third"}]}});
        let c = CompiledGatekeeperCode::compile(&block).unwrap();
        let each = c.evaluate_each(&Request::for_object(&pod(true)), None, None);
        assert_eq!(each.len(), 3);
        assert_eq!(each[0].as_ref().unwrap().message, "first");
        assert!(each[1].is_err());
        assert_eq!(each[2].as_ref().unwrap().validation, 2);
        assert!(c.evaluate(&Request::for_object(&pod(true)), None).is_err());
    }

    #[test]
    fn errors_are_errors_not_passes() {
        let block =
            json!({"source": {"validations": [{"expression": "object.spec.missing == 1"}]}});
        let err = evaluate_gatekeeper_code(&block, &Request::for_object(&pod(true)), None);
        assert!(matches!(err, Err(CelError::Evaluation(m)) if m.contains("validations[0]")));
        let not_bool = json!({"source": {"validations": [{"expression": "'yes'"}]}});
        assert!(
            evaluate_gatekeeper_code(&not_bool, &Request::for_object(&pod(true)), None).is_err()
        );
    }

    #[test]
    fn bad_code_blocks_are_load_errors_with_paths() {
        let cases = [
            (
                json!({"source": {"validations": [{"expression": "1 +"}]}}),
                "source.validations[0].expression",
            ),
            (
                json!({"source": {"validations": [{"expression": "variables.nope"}]}}),
                "source.validations[0].expression",
            ),
            (
                json!({"source": {"variables": [{"name": "a", "expression": "variables.b"},
                {"name": "b", "expression": "1"}], "validations": [{"expression": "true"}]}}),
                "source.variables[0].expression",
            ),
            (
                json!({"source": {"validations": [{"message": "x"}]}}),
                "source.validations[0].expression",
            ),
            (json!({"source": {"validations": []}}), "source.validations"),
            (json!({"engine": "Rego", "source": {}}), "code.engine"),
            (
                json!({"source": {"validations": [{"expression": "true", "messageExpression": "("}]}}),
                "source.validations[0].messageExpression",
            ),
        ];
        for (block, path) in cases {
            match CompiledGatekeeperCode::compile(&block) {
                Err(CelError::Invalid { path: p, .. }) => assert_eq!(p, path, "{block}"),
                other => panic!("{block}: {other:?}"),
            }
        }
    }

    #[test]
    fn match_conditions_gate_the_validations() {
        let block = json!({"source": {
            "matchConditions": [{"name": "only-web", "expression": "object.metadata.name == 'web'"}],
            "validations": [{"expression": "false", "message": "denied"}]}});
        let c = CompiledGatekeeperCode::compile(&block).unwrap();
        assert!(c
            .evaluate(&Request::for_object(&pod(true)), None)
            .unwrap()
            .is_empty());
        let mut web = pod(true);
        web["metadata"]["name"] = json!("web");
        assert_eq!(
            c.evaluate(&Request::for_object(&web), None).unwrap()[0].message,
            "denied"
        );
    }

    #[test]
    fn finds_the_code_block_of_a_template() {
        let t = json!({"spec": {"targets": [{"target": "admission.k8s.gatekeeper.sh",
            "code": [{"engine": "Rego", "source": {}}, {"engine": "K8sNativeValidation", "source": {"x": 1}}]}]}});
        assert_eq!(native_validation_code(&t).unwrap()["source"]["x"], 1);
        assert!(native_validation_code(&json!({"spec": {}})).is_none());
    }
}
