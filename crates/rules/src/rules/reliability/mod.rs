//! `REL`: reliability and rollout safety (probes, resources, disruption budgets).

pub(crate) mod missing_disruption_budget;
pub(crate) mod missing_probes;
pub(crate) mod missing_resource_limits;
