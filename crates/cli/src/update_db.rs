//! `palisade update-db`: the CVE data for `--cve-data`.

use crate::{emit, Exit};
use anyhow::{bail, Context as _};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct UpdateDbArgs {
    /// The Kubernetes project's official CVE feed, a JSON Feed file
    /// (https://kubernetes.io/docs/reference/issues-security/official-cve-feed/index.json),
    /// downloaded beforehand. Downloading it from this command is not implemented: fetch the
    /// file with any HTTP client and pass it here.
    #[arg(long, value_name = "FEED.json")]
    from_file: Option<PathBuf>,
    /// The directory to write (one `CVE-*.yaml` file per CVE, the format `--cve-data` reads).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(crate) fn run(args: UpdateDbArgs) -> anyhow::Result<Exit> {
    let Some(feed) = args.from_file else {
        bail!(
            "downloading the CVE feed is not implemented (no network access is assumed): download \
             https://kubernetes.io/docs/reference/issues-security/official-cve-feed/index.json and \
             pass it with --from-file"
        );
    };
    let text = std::fs::read_to_string(&feed)
        .with_context(|| format!("cannot read {}", feed.display()))?;
    let cves =
        palisade_node::cve::from_json_feed(&text).with_context(|| format!("{}", feed.display()))?;
    if cves.is_empty() {
        bail!(
            "{} holds no CVE (expected the official Kubernetes CVE feed, JSON Feed format): nothing written",
            feed.display()
        );
    }
    let with_ranges = cves.iter().filter(|c| !c.affected.is_empty()).count();
    let n = palisade_node::cve::write_dir(&cves, &args.out)?;
    emit(&format!(
        "wrote {n} CVEs to {} ({with_ranges} with affected version ranges)\n",
        args.out.display()
    ))?;
    Ok(Exit::Clean)
}
