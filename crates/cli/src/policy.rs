//! `--policy`: Gatekeeper templates and constraints loaded beside the built-in rules.

use clap::Args;
use palisade_core::{InputIssue, Policy, Rule, RuleMeta};
use palisade_policy::constraint::EnforcementPoint;
use palisade_policy::{ConstraintRule, EvalOptions, PolicySet};
use std::path::{Path, PathBuf};

/// Policy flags of `scan`, `rules`, `explain`, `admission serve|install` and `audit serve`.
#[derive(Args, Debug, Default, Clone)]
pub(crate) struct PolicyArgs {
    /// Gatekeeper ConstraintTemplates and constraints to evaluate beside the built-in rules:
    /// files or directories (YAML/JSON, recursively). Repeatable; added to the configuration's
    /// `policies:` list.
    #[arg(long = "policy", value_name = "PATH")]
    pub(crate) policy: Vec<PathBuf>,
    /// The engine of ConstraintTemplates that carry both Rego and a K8sNativeValidation
    /// (CEL) block: `cel` (default, as Gatekeeper) or `rego`. Templates with one engine
    /// always run it.
    #[arg(long = "policy-engine", value_name = "ENGINE", value_parser = ["cel", "rego"], default_value = "cel")]
    pub(crate) policy_engine: String,
}

impl PolicyArgs {
    /// The evaluation options the flags ask for.
    pub(crate) fn eval_options(&self) -> EvalOptions {
        EvalOptions {
            engine: palisade_policy::PolicyEngine::parse(&self.policy_engine).unwrap_or_default(),
        }
    }
}

/// Policies loaded for a command.
#[derive(Default)]
pub(crate) struct Loaded {
    /// One rule per constraint enforced at the command's enforcement point.
    pub(crate) rules: Vec<&'static ConstraintRule>,
    /// Problems with the policies (file, line, reason); the other policies still run.
    pub(crate) errors: Vec<InputIssue>,
}

impl Loaded {
    /// The rules, as the facade takes them.
    pub(crate) fn dyn_rules(&self) -> Vec<&'static dyn Rule> {
        self.rules.iter().map(|r| *r as &'static dyn Rule).collect()
    }

    /// Their metadata.
    pub(crate) fn metas(&self) -> Vec<&'static RuleMeta> {
        self.rules.iter().map(|r| r.meta()).collect()
    }

    /// Gives each constraint its enforcement action as its admission mode, unless the
    /// configuration sets one for it.
    pub(crate) fn apply_modes(&self, policy: &mut Policy) {
        palisade_policy::apply_modes(&self.rules, policy);
    }
}

/// Loads the policies of `--policy` and of the configuration's `policies:` list (paths
/// relative to the configuration file), plus, with `from_input`, the policy objects among the
/// scanned paths and the parameter objects of the ValidatingAdmissionPolicies there.
pub(crate) fn load(
    args: &PolicyArgs,
    config: Option<&Path>,
    from_input: &[PathBuf],
    point: EnforcementPoint,
) -> anyhow::Result<Loaded> {
    let mut paths = args.policy.clone();
    paths.extend(crate::config::policy_paths(config)?);
    if paths.is_empty() && from_input.is_empty() {
        return Ok(Loaded::default());
    }
    let mut set = if paths.is_empty() {
        PolicySet::default()
    } else {
        PolicySet::load_paths(&paths)
    };
    if !from_input.is_empty() {
        // The policy among the scanned objects, and the parameter objects of every loaded
        // ValidatingAdmissionPolicy (those of the kinds their paramKinds name).
        let scanned = palisade_load::load_paths(from_input);
        set.add_input(&scanned.objects);
    }
    let rules = palisade_policy::rules_for(&set, point, args.eval_options());
    Ok(Loaded {
        rules,
        errors: set.errors,
    })
}
