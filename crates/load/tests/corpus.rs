//! The loader over the real-world manifest corpus in `../shared/corpus/real-manifests`: every
//! file of the index is read without a panic, every parseable file yields exactly the number
//! of objects the index counts, and every file the index marks unparseable is reported.

#![allow(clippy::print_stderr)]

/// Files the index (built with PyYAML) marks unparseable but Kubernetes' decoder reads:
/// `LoadBalancer<TAB>` is a plain scalar followed by a tab, which libyaml and go-yaml accept
/// and PyYAML's scanner rejects. Palisade follows Kubernetes and scans it.
const KUBERNETES_ACCEPTS: &[&str] =
    &["kubernetes-engine-samples/ai-ml/vllm-tpu/vllm-llama3-70b.yaml"];

#[test]
fn real_manifests_match_the_index() {
    let Some(root) = palisade_testkit::corpus("real-manifests") else {
        return;
    };
    let index = std::fs::read_to_string(root.join("manifest_index.tsv")).expect("index");
    let mut files = 0;
    let mut objects = 0;
    let mut reported = 0;
    let mut extra = 0;
    let mut mismatches = Vec::new();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, count, status) = (cols[0], cols[1].parse::<usize>().unwrap(), cols[3]);
        let loaded = palisade_load::load_file(&root.join(file));
        files += 1;
        if status == "ok" {
            objects += loaded.objects.len();
            if loaded.objects.len() != count || !loaded.errors.is_empty() {
                mismatches.push(format!(
                    "{file}: index {count}, loaded {} ({:?})",
                    loaded.objects.len(),
                    loaded.errors
                ));
            }
        } else if KUBERNETES_ACCEPTS.contains(&file) {
            assert!(
                loaded.errors.is_empty() && !loaded.objects.is_empty(),
                "{file}: {:?}",
                loaded.errors
            );
            extra += loaded.objects.len();
        } else {
            let issues = loaded.errors.len() + loaded.warnings.len();
            if issues == 0 {
                mismatches.push(format!("{file}: index says unparseable, nothing reported"));
            } else {
                reported += 1;
            }
            for i in loaded.errors.iter().chain(&loaded.warnings) {
                assert!(i.line > 0, "{file}: issue without a line: {i}");
            }
        }
    }
    eprintln!(
        "real-manifests: {files} files, {objects} objects as indexed (+{extra} from files only PyYAML rejects), \
         {reported} unparseable files reported"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(files, 1626);
    assert_eq!(objects, 3125);
}
