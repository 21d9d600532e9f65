//! The HTML report in a real browser: `palisade scan examples/ --format html` opened in
//! headless Chromium (Debian's `chromium` package) must run its script (the `data-ready`
//! marker, the filled row counts), show the charts and every finding, log nothing to the
//! console, and leave a screenshot at `target/html-report.png` in the workspace. A manifest
//! whose object name is markup shows that name as text. Without Chromium the test says
//! SKIPPED and passes (`.ci/run` installs it).

#![allow(clippy::print_stderr)]

mod common;
use common::{palisade_in, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn palisade(args: &[&str]) -> Output {
    palisade_in(&root(), args)
}

/// The browser: `$PALISADE_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` (with `fragment` after its address) with `args` (a fresh profile each time, killed after
/// two minutes): its stdout, its stderr, and whether it exited successfully.
fn browse(chromium: &Path, page: &Path, fragment: &str, args: &[&str]) -> (String, String, bool) {
    let profile = tempfile::tempdir().unwrap();
    // Files, not pipes: a dumped DOM larger than a pipe's buffer would block Chromium while
    // this waits for it.
    let stdout = profile.path().join("stdout");
    let stderr = profile.path().join("stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}{fragment}", page.display()))
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within two minutes on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        std::fs::read_to_string(&stdout).unwrap(),
        std::fs::read_to_string(&stderr).unwrap(),
        status.success(),
    )
}

/// The lines of Chromium's log that come from the page: console messages (errors,
/// uncaught exceptions, Content-Security-Policy violations).
fn page_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED: chromium not found on PATH (apt-get install chromium, or set PALISADE_CHROMIUM)"
        );
        return;
    };
    let target = root().join("target");
    std::fs::create_dir_all(&target).unwrap();
    let page = target.join("html-report.html");
    let shot = target.join("html-report.png");
    let _ = std::fs::remove_file(&shot);

    let o = palisade(&[
        "scan",
        "examples/",
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json = palisade(&["scan", "examples/", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap().len();
    let suppressed = json["suppressed"].as_array().map_or(0, Vec::len);
    assert!(findings > 10, "the examples have findings");

    // The check below catches a page's errors: a page that throws is reported.
    let broken = tempfile::tempdir().unwrap();
    let broken_page = broken.path().join("broken.html");
    std::fs::write(
        &broken_page,
        "<!DOCTYPE html><html><body><script>throw new Error(\"broken page\")</script></body></html>",
    )
    .unwrap();
    let (_, err, _) = browse(&chromium, &broken_page, "", &["--dump-dom"]);
    assert!(
        page_messages(&err)
            .iter()
            .any(|l| l.contains("Uncaught Error: broken page")),
        "Chromium's log does not show a page's uncaught error, so the checks below could not fail:\n{err}"
    );

    let (dom, err, ok) = browse(&chromium, &page, "", &["--dump-dom"]);
    assert!(ok, "chromium --dump-dom failed:\n{err}");
    assert!(
        page_messages(&err).is_empty(),
        "the page logged to the console:\n{}",
        page_messages(&err).join("\n")
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish (no data-ready on <body>):\n{}",
        &dom[..dom.len().min(2000)]
    );
    for chart in [
        "chart-severity",
        "chart-family",
        "chart-framework",
        "chart-namespace",
    ] {
        assert!(dom.contains(&format!("id=\"{chart}\"")), "{chart} missing");
    }
    assert_eq!(count(&dom, "<svg"), 4, "four charts");
    assert!(count(&dom, "class=\"seg\"") >= 2, "donut segments");
    assert!(count(&dom, "<rect ") >= 4, "bars");
    assert_eq!(
        count(&dom, "data-table=\"active\""),
        findings,
        "one row per finding"
    );
    assert_eq!(count(&dom, "data-table=\"suppressed\""), suppressed);
    // The script filled the counts in.
    assert!(
        dom.contains(&format!("{findings} of {findings} shown")),
        "row counts not filled in"
    );

    // The filters, set from the address's fragment: only the shop's high findings show.
    let (dom, err, ok) = browse(&chromium, &page, "#ns=shop&sev=high", &["--dump-dom"]);
    assert!(ok && page_messages(&err).is_empty(), "{err}");
    let want = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high" && f["object"]["namespace"] == "shop")
        .count();
    assert!(want > 0 && want < findings, "{want}");
    let shown = dom
        .split("<tr data-table=\"active\"")
        .skip(1)
        .filter(|row| !row[..row.find('>').unwrap()].contains("hidden"))
        .count();
    assert_eq!(shown, want, "rows shown by #ns=shop&sev=high");
    assert!(dom.contains(&format!("{want} of {findings} shown")));

    let (_, err, ok) = browse(
        &chromium,
        &page,
        "",
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
            "--hide-scrollbars",
        ],
    );
    assert!(ok, "chromium --screenshot failed:\n{err}");
    assert!(page_messages(&err).is_empty(), "{err}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn markup_in_an_object_name_is_text_in_the_browser() {
    let Some(chromium) = chromium() else {
        eprintln!("SKIPPED: chromium not found on PATH (apt-get install chromium, or set PALISADE_CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("hostile.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"<script>alert(1)</script>\"\n  namespace: \"<img src=x onerror=alert(2)>\"\nspec:\n  containers:\n    - name: app\n      image: nginx\n      securityContext:\n        privileged: true\n",
    )
    .unwrap();
    let page = dir.path().join("report.html");
    let o = palisade(&[
        "scan",
        manifest.to_str().unwrap(),
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script>alert(1)"), "unescaped name");
    assert!(!html.contains("<img src=x"), "unescaped namespace");
    let (dom, err, ok) = browse(&chromium, &page, "", &["--dump-dom"]);
    assert!(ok, "{err}");
    assert!(page_messages(&err).is_empty(), "{err}");
    assert!(dom.contains("data-ready=\"1\""));
    // The name is text in a cell, not an element: the page has its own script only, no image.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(count(&dom, "<script"), 1);
    assert_eq!(count(&dom, "<img"), 0);
}
