//! `palisade-replay`: runs the replay server until its standard input closes (for the
//! benchmark and for trying Palisade or kubectl against a recorded cluster by hand).
//!
//! ```text
//! palisade-replay --recordings DIR --kubeconfig OUT [--pods N --others M [--standalone-pods]] [--writable PREFIX]
//! ```
//!
//! A line `change PATH N` on its standard input changes the first N objects of the
//! synthesized list at PATH (`/api/v1/pods`): each gets the label `palisade.dev/change`
//! (a counter) and is sent to the watches of PATH as `MODIFIED`. It answers on standard
//! error with the number of objects changed and of watches open.

use std::io::BufRead as _;
use std::path::PathBuf;

#[allow(clippy::print_stderr)]
fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut recordings = None;
    let mut kubeconfig = None;
    let mut pods = 0usize;
    let mut others = 0usize;
    let mut standalone = false;
    let mut writable: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        if a == "--standalone-pods" {
            standalone = true;
            continue;
        }
        let v = args.next();
        match (a.as_str(), v) {
            ("--recordings", Some(v)) => recordings = Some(PathBuf::from(v)),
            ("--kubeconfig", Some(v)) => kubeconfig = Some(PathBuf::from(v)),
            ("--pods", Some(v)) => pods = v.parse().unwrap_or(0),
            ("--others", Some(v)) => others = v.parse().unwrap_or(0),
            ("--writable", Some(v)) => writable.push(v),
            _ => {
                eprintln!("usage: palisade-replay --recordings DIR --kubeconfig OUT [--pods N --others M [--standalone-pods]] [--writable PREFIX]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let (Some(recordings), Some(kubeconfig)) = (recordings, kubeconfig) else {
        eprintln!("usage: palisade-replay --recordings DIR --kubeconfig OUT [--pods N --others M [--standalone-pods]] [--writable PREFIX]");
        return std::process::ExitCode::from(2);
    };
    let synthetic = if pods + others > 0 {
        match palisade_replay::synthesize(&recordings, pods, others, !standalone) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    } else {
        Default::default()
    };
    let lists = synthetic.clone();
    let server = match palisade_replay::Replay::start(palisade_replay::Config {
        recordings,
        synthetic,
        writable,
        ..Default::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Err(e) = server.write_kubeconfig(&kubeconfig) {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(2);
    }
    eprintln!(
        "serving {} (kubeconfig {})",
        server.url(),
        kubeconfig.display()
    );
    let mut changes = 0usize;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let (path, n) = match words.as_slice() {
            ["change", path, n] => (*path, n.parse::<usize>().unwrap_or(0)),
            [] => continue,
            _ => {
                eprintln!("unknown command (change PATH N): {line}");
                continue;
            }
        };
        let Some(list) = lists.get(path) else {
            eprintln!("no synthesized list at {path}");
            continue;
        };
        changes += 1;
        let mut watches = 0;
        let items = list.items.iter().take(n);
        let count = items.len();
        for item in items {
            let mut object = item.clone();
            object["metadata"]["labels"]["palisade.dev/change"] =
                serde_json::json!(changes.to_string());
            if let Some(m) = object["metadata"].as_object_mut() {
                // A new version, above every recorded one.
                m.remove("resourceVersion");
            }
            watches = server.emit(path, "MODIFIED", object);
        }
        eprintln!("changed {count} objects at {path} ({watches} watches open)");
    }
    std::process::ExitCode::SUCCESS
}
