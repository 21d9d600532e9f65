//! Version tables, go-version constraints and the CVE feed conversion.

use jiff::civil::date;
use palisade_node::cve::{from_json_feed, write_dir, CveDatabase, Running};
use palisade_node::version::{
    os_image_eol, runtime_problem, satisfies, skew_problem, support, Support, Version,
};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn versions_parse_with_suffixes() {
    assert_eq!(
        v("v1.24.0"),
        Version {
            major: 1,
            minor: 24,
            patch: 0
        }
    );
    assert_eq!(
        v("1.28.3-eks-1234"),
        Version {
            major: 1,
            minor: 28,
            patch: 3
        }
    );
    assert_eq!(
        v("v1.30.2+k3s1"),
        Version {
            major: 1,
            minor: 30,
            patch: 2
        }
    );
    assert_eq!(
        v("1.16"),
        Version {
            major: 1,
            minor: 16,
            patch: 0
        }
    );
}

#[test]
fn go_version_constraints() {
    assert!(satisfies(v("1.14.7"), "< 1.14.8"));
    assert!(!satisfies(v("1.14.8"), "< 1.14.8"));
    assert!(satisfies(v("1.15.4"), ">= 1.15.0, <= 1.15.4"));
    assert!(!satisfies(v("1.16.0"), ">= 1.15.0, <= 1.15.4"));
    assert!(satisfies(v("1.13.0"), "1.13.0"));
    assert!(!satisfies(v("1.13.1"), "1.13.0"));
    assert!(satisfies(v("1.19.9"), ">= 1.17.0, < 1.20.0-alpha.2"));
    assert!(!satisfies(v("1.20.0"), ">= 1.17.0, < 1.20.0-alpha.2"));
    assert!(!satisfies(v("1.10.0"), ">= 1.10, < 1.10.0-beta.1"));
    assert!(satisfies(v("1.2.9"), "~> 1.2.3"));
    assert!(!satisfies(v("1.3.0"), "~> 1.2.3"));
    assert!(!satisfies(v("1.2.0"), ""));
}

#[test]
fn end_of_life_and_skew() {
    let day = date(2026, 11, 23);
    assert_eq!(
        support(v("1.24.0"), day),
        Support::EndOfLife(date(2023, 7, 28))
    );
    assert_eq!(
        support(v("1.35.1"), day),
        Support::Supported(date(2027, 2, 28))
    );
    assert_eq!(
        support(v("1.35.1"), date(2027, 1, 15)),
        Support::EndingSoon(date(2027, 2, 28))
    );
    assert_eq!(support(v("1.17.0"), day), Support::Ancient);
    assert_eq!(support(v("1.40.0"), day), Support::Newer);
    assert!(skew_problem(v("1.24.0"), v("1.22.3")).is_none());
    assert!(skew_problem(v("1.24.0"), v("1.21.0")).is_some());
    assert!(skew_problem(v("1.30.0"), v("1.27.0")).is_none());
    assert!(skew_problem(v("1.30.0"), v("1.31.0")).is_some());
    assert_eq!(
        os_image_eol("Ubuntu 18.04.6 LTS", day),
        Some(date(2023, 5, 31))
    );
    assert_eq!(os_image_eol("Ubuntu 24.04.1 LTS", day), None);
    assert_eq!(os_image_eol("Amazon Linux 2023.5.20240805", day), None);
    assert!(os_image_eol("Amazon Linux 2", day).is_some());
    assert!(runtime_problem("docker://20.10.7").is_some());
    assert!(runtime_problem("containerd://1.5.9").is_some());
    assert!(runtime_problem("containerd://1.7.22").is_none());
}

const FEED: &str = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Kubernetes Vulnerability Announcements - CVE Feed",
  "home_page_url": "https://kubernetes.io",
  "items": [
    {
      "id": "CVE-2023-5528",
      "url": "https://www.cve.org/cverecord?id=CVE-2023-5528",
      "external_url": "https://github.com/kubernetes/kubernetes/issues/121879",
      "summary": "Insufficient input sanitization in in-tree storage plugin leads to privilege escalation on Windows nodes",
      "date_published": "2023-11-14T00:00:00Z",
      "content_text": "CVSS Rating: High\n\n#### Affected Versions\n\n- kubelet v1.28.0 - v1.28.3\n- kubelet v1.27.0 - v1.27.7\n- kubelet <= v1.25.15\n\n#### Fixed Versions\n\n- kubelet v1.28.4\n- kubelet v1.27.8\n- kubelet v1.25.16\n\n### Detection\nnothing"
    },
    {
      "id": "CVE-2099-0001",
      "url": "https://www.cve.org/cverecord?id=CVE-2099-0001",
      "summary": "An announcement without version lists",
      "content_text": "Details to follow."
    }
  ]
}"#;

#[test]
fn json_feed_converts_to_the_directory_format() {
    let cves = from_json_feed(FEED).unwrap();
    assert_eq!(cves.len(), 2);
    let c = &cves[0];
    assert_eq!(c.cve, "CVE-2023-5528");
    assert_eq!(c.components, ["kubelet"]);
    let ranges: Vec<(&str, Option<&str>)> = c
        .affected
        .iter()
        .map(|a| (a.range.as_str(), a.fixed_by.as_deref()))
        .collect();
    assert_eq!(
        ranges,
        [
            (">= 1.28.0, <= 1.28.3", Some("1.28.4")),
            (">= 1.27.0, <= 1.27.7", Some("1.27.8")),
            ("<= 1.25.15", Some("1.25.16")),
        ]
    );
    assert!(cves[1].affected.is_empty());
    // Round trip through the directory format.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(write_dir(&cves, dir.path()).unwrap(), 2);
    let db = CveDatabase::load(dir.path()).unwrap();
    assert_eq!(db.cves, cves);
    let hits = db.matching(&[Running {
        component: "kubelet".into(),
        version: v("1.27.5"),
    }]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].affected.fixed_by.as_deref(), Some("1.27.8"));
}

#[test]
fn loopback_addresses() {
    use palisade_node::checks::Test;
    for ok in [
        "127.0.0.1",
        "127.0.0.1:10249",
        "::1",
        "[::1]:10249",
        "localhost:10249",
    ] {
        assert!(Test::Loopback.passes(Some(ok)), "{ok}");
    }
    for bad in ["0.0.0.0", "0.0.0.0:10249", "10.0.0.5", "[::]:10249", ""] {
        assert!(!Test::Loopback.passes(Some(bad)), "{bad}");
    }
}

#[test]
fn kubelet_configz_answer_is_unwrapped() {
    let v =
        serde_json::json!({"kubeletconfig": {"authentication": {"anonymous": {"enabled": true}}}});
    let results = palisade_node::checks::kubelet::kubelet_config_checks(&v, 12);
    let r = results.iter().find(|r| r.id == "4.2.1").unwrap();
    assert_eq!(r.status, palisade_core::CheckStatus::Fail);
    assert!(
        r.observed
            .contains("authentication.anonymous.enabled (config file)=true"),
        "{}",
        r.observed
    );
}
