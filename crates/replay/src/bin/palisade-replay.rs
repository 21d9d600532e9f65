//! `palisade-replay`: runs the replay server until its standard input closes (for the
//! benchmark and for trying Palisade or kubectl against a recorded cluster by hand).
//!
//! ```text
//! palisade-replay --recordings DIR --kubeconfig OUT [--pods N --others M [--standalone-pods]] [--writable PREFIX]
//! ```

use std::io::Read as _;
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
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::ExitCode::SUCCESS
}
