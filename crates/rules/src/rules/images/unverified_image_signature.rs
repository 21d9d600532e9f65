use palisade_core::{Context, PodTemplate, Rule};
use palisade_supply::cosign::Verdict;
use palisade_supply::signatures::{SignatureEvidence, SignatureResult};

declare_rule! {
    /// ## What it checks
    /// Container images that the image trust policy (`imageTrust` in `palisade.yaml`) says
    /// must be signed, and whose signature could not be verified: `palisade scan
    /// --verify-images` resolves each image's tag to its digest at the registry (OCI
    /// distribution API), fetches the signatures of the kinds the scope's policy accepts, and
    /// checks them: cosign signatures stored for the digest (`sha256-<hex>.sig`) against the
    /// policy's public keys; Notation signatures that refer to the digest (OCI referrers API,
    /// else the `sha256-<hex>` referrers tag), JWS envelopes whose certificate chain must lead
    /// to a root of the policy's trust store, every certificate valid now, the signing
    /// certificate fit for code signing and, when the policy names `signers`, its subject one
    /// of them. Reported:
    ///
    /// - **unsigned**: no signature of an accepted kind is stored for the digest;
    /// - **untrusted signer**: signatures exist but none is by a trusted signer (another
    ///   cosign key, or a cosign signature altered without breaking its encoding; a Notation
    ///   certificate that does not chain to the trust store, or whose subject is not one of
    ///   the signers);
    /// - **invalid signature**: cosign: not base64 or not DER, a payload that does not match
    ///   its digest or is not a simple-signing document; Notation: a malformed envelope, a
    ///   signature that does not verify with its certificate's key, an expired or not yet
    ///   valid certificate, a signature past its own expiry, an unsupported envelope (COSE),
    ///   algorithm (ES512) or signing scheme (`notary.x509.signingAuthority`);
    /// - **tag moved**: the digest running differs from the digest signed: a trusted signer
    ///   signed another digest than the one that runs (the tag was verified at a signed digest
    ///   and now points to content nobody trusted signed, a signature stored for one digest
    ///   signs another, or a Pod read from a cluster runs an unsigned digest, its status's
    ///   `imageID`, while its tag now points to a signed one), or a Pod runs the signed digest
    ///   while its tag now points to content nobody trusted signed (what the next pull gets);
    /// - **outside every trust policy**, when `imageTrust.default` is `reject`;
    /// - **not verified**, when the registry does not answer and the failure policy is
    ///   `fail` (`--verify-failure-policy`, default `fail`; with `ignore` the report notes it).
    ///
    /// In a cluster scan, the Pods a workload controls are reported as that workload (a
    /// Deployment, not each of its Pods), and the digests they run are judged for it: each
    /// digest its Pods' statuses name is verified as a standalone Pod's is, and one finding
    /// per container names the digest(s) running, how many Pods run each, and the verdict on
    /// each (during a rollout, or when the tag moved between two Pod starts, the Pods of one
    /// Deployment run several digests: those that pass are named beside those that fail). A
    /// workload none of whose Pods says what it runs (no status yet) is judged at the digest
    /// its tag names now. Admission is unaffected: the webhook reviews one object, and does
    /// not look up a workload's Pods (a workload's image is judged at the digest its tag
    /// names now, a Pod's at the digest its own status names, if any).
    ///
    /// In a cluster scan (and at admission with `admission serve --image-pull-secrets`),
    /// registry logins also come from the workload's image pull Secrets (its own
    /// `imagePullSecrets`, else its ServiceAccount's), read from its namespace only.
    ///
    /// Without `--verify-images` the rule reports nothing. At admission, the webhook verifies
    /// the images of each reviewed workload when the policy has an `imageTrust` section
    /// (verdicts cached per digest; a registry that does not answer within the verification
    /// budget follows the webhook's failure policy, and the response says so).
    ///
    /// ## Why it matters
    /// A registry allowlist says where an image comes from, not who built it: a pushed tag, a
    /// compromised registry account or a poisoned mirror ships unreviewed code under a
    /// trusted name. A signature by the release pipeline's key ties the digest that runs to
    /// the build that produced it.
    ///
    /// ## How to fix
    /// Sign the digest your pipeline built (`cosign sign --key ...
    /// registry/app@sha256:...`, or `notation sign registry/app@sha256:...` with a
    /// certificate your trust store's root issued), reference images by that digest, and list
    /// the pipeline's public key, or the root certificate and the signing certificate's
    /// subject, in the scope's trust policy. A moved tag means the digest that runs is not
    /// the one signed: redeploy the signed digest, or sign the new one if it is yours.
    ///
    /// ## Example
    /// ```yaml
    /// # imageTrust: contoso.azurecr.io/shop/* needs cosign with keys/release.pub
    /// image: contoso.azurecr.io/shop/api:2.3.1   # no signature stored for its digest
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # signed: cosign sign --key release.key contoso.azurecr.io/shop/api@sha256:9b2e...
    /// image: contoso.azurecr.io/shop/api:2.3.1@sha256:9b2e...
    /// ```
    pub(crate) struct UnverifiedImageSignature;
    id: "IMG007",
    name: "unverified-image-signature",
    severity: High,
    summary: "Image signature is missing, untrusted or invalid under the image trust policy",
    references: ["cis:5.5.1", "nsa:pod-security", "nist:4.1.5", "nist:4.2.2", "owasp:K02", "book:ops.trusted-registries"],
    tags: ["supply-chain", "signatures"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for UnverifiedImageSignature {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        // The webhook verifies the reviewed workload's images before the rules run.
        palisade_core::AdmissionNeeds::Object
    }

    fn reads_inventory(&self) -> bool {
        // The verifications are attached to the inventory by the front-end.
        true
    }

    fn check(&self, object: &palisade_core::Object, cx: &mut Context<'_>) {
        let Some(inv) = cx.inventory() else {
            return;
        };
        // The front-end verifies (`--verify-images`) into the derived-view cache.
        let evidence = inv.derived(|_| SignatureEvidence::default());
        if evidence.images.is_empty() {
            return;
        }
        {
            let Some(pod) = PodTemplate::of(object) else {
                return;
            };
            let key = palisade_supply::signatures::object_key(
                &object.kind,
                object.namespace.as_deref(),
                &object.name,
            );
            for c in pod.containers() {
                let image = c.image().trim();
                // The Pods folded into the workload (a cluster scan): each digest they run.
                if let Some(keys) = evidence.folded_keys(&key, c.name, image) {
                    let Some((what, fix, policy)) = judge_folded(&evidence, &keys) else {
                        continue;
                    };
                    let pods: usize = keys.iter().map(|(_, n)| n).sum();
                    let runs = match keys.as_slice() {
                        [(k, _)] => format!(
                            " at {}, run by {}",
                            k.running.as_deref().unwrap_or_default(),
                            count(pods, "Pod")
                        ),
                        _ => format!(
                            ": its {} run {}",
                            count(pods, "Pod"),
                            count(keys.len(), "digest")
                        ),
                    };
                    let digests: Vec<String> = keys
                        .iter()
                        .filter_map(|(k, n)| Some(format!("{}={n}", k.running.as_deref()?)))
                        .collect();
                    cx.report(
                        c.pointer("/image"),
                        format!(
                            "{} image \"{image}\"{runs}: {what}{}",
                            c.describe(),
                            policy_note(&policy)
                        ),
                    )
                    .fix(fix)
                    .property("container", c.name)
                    .property("image", image)
                    .property("policy", policy)
                    .property("runningDigests", digests.join(","));
                    continue;
                }
                // A Pod's running digest (its status) and the workload's image pull Secrets
                // are part of the key, as the front-end verified them.
                let k = evidence.key_for(&key, object.value(), c.name, image);
                let Some(v) = evidence.images.get(&k) else {
                    continue;
                };
                let at = v
                    .digest
                    .as_deref()
                    .map(|d| format!(" at {d}"))
                    .unwrap_or_default();
                let Some((what, fix)) = judge(&v.result) else {
                    continue;
                };
                let policy = policy_note(&v.policy);
                cx.report(
                    c.pointer("/image"),
                    format!("{} image \"{image}\"{at}: {what}{policy}", c.describe()),
                )
                .fix(fix)
                .property("container", c.name)
                .property("image", image)
                .property("policy", v.policy.clone());
            }
        }
    }
}

/// What a verification reports and how to fix it; `None` when it passes (verified, or a
/// registry that did not answer under the failure policy `ignore`: the report notes it).
fn judge(result: &SignatureResult) -> Option<(String, &'static str)> {
    Some(match result {
        SignatureResult::Judged(Verdict::Verified { .. }) => return None,
        SignatureResult::Judged(verdict @ Verdict::TagMoved { .. }) => (
            verdict.to_string(),
            "deploy the digest that was signed, or sign the new digest if your pipeline built it",
        ),
        SignatureResult::Judged(verdict) => (
            verdict.to_string(),
            "sign the image's digest as its trust policy asks (cosign sign --key ..., notation sign ...) and deploy it by digest",
        ),
        SignatureResult::OutsideTrustPolicies => (
            "comes from outside every trust policy (imageTrust.default: reject)".to_owned(),
            "pull it from a registry scope a trust policy covers, or add a policy for its scope",
        ),
        SignatureResult::RegistryError {
            fail_closed: false, ..
        } => return None,
        SignatureResult::RegistryError { reason, .. } => (
            format!("could not be verified (failure policy fail): {reason}"),
            "make the registry reachable, or set --verify-failure-policy ignore",
        ),
    })
}

/// The verdict on the digests a workload's folded Pods run a container's image at (`keys`,
/// sorted by digest, with how many Pods run each): `None` when each passes; else what to
/// report (one digest: its verdict; several: each digest with its Pods and verdict, those
/// that pass too, so that a rollout's digests are named side by side), the fix of the first
/// that fails, and the trust policy.
fn judge_folded(
    evidence: &SignatureEvidence,
    keys: &[(palisade_supply::signatures::ImageKey, usize)],
) -> Option<(String, &'static str, String)> {
    let mut parts = Vec::new();
    let mut failed = None;
    let mut policy = String::new();
    for (k, n) in keys {
        let Some(v) = evidence.images.get(k) else {
            continue;
        };
        if policy.is_empty() {
            policy.clone_from(&v.policy);
        }
        let verdict = match judge(&v.result) {
            Some((what, fix)) => {
                failed.get_or_insert(fix);
                what
            }
            None => match &v.result {
                SignatureResult::Judged(verdict) => verdict.to_string(),
                _ => "not verified (failure policy ignore)".to_owned(),
            },
        };
        parts.push((k.running.as_deref().unwrap_or_default(), *n, verdict));
    }
    let fix = failed?;
    let what = match parts.as_slice() {
        [(_, _, verdict)] => verdict.clone(),
        _ => parts
            .iter()
            .map(|(d, n, verdict)| format!("{} at {d}: {verdict}", count(*n, "Pod")))
            .collect::<Vec<_>>()
            .join("; "),
    };
    Some((what, fix, policy))
}

/// ` (trust policy `NAME`)`, or nothing for images outside every policy.
fn policy_note(policy: &str) -> String {
    if policy.is_empty() {
        String::new()
    } else {
        format!(" (trust policy `{policy}`)")
    }
}

/// `1 Pod`, `3 Pods`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
