//! `palisade-dev`: development tasks. `generate-docs [--check]`; `new-rule FAMILY NAME
//! [--no-docs]`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: palisade-dev generate-docs [--check]
       palisade-dev new-rule FAMILY NAME [--no-docs]   (FAMILY: a prefix such as POD, or a name such as pod-security)";

fn generate_docs(check: bool) -> ExitCode {
    match palisade_dev::generate_docs(&palisade_dev::repo_root(), check) {
        Ok(problems) if problems.is_empty() => {
            if !check {
                println!("docs/rules written");
            }
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            eprintln!("run `cargo run -p palisade-dev -- generate-docs`");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn new_rule(family: &str, name: &str, docs: bool) -> ExitCode {
    let root = palisade_dev::repo_root();
    let s = match palisade_dev::new_rule::new_rule(&root, family, name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{} {name}:", s.id);
    for f in &s.files {
        println!("  {}", f.display());
    }
    if docs {
        // The page is generated from the compiled catalogue, which now holds the rule.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["run", "-q", "-p", "palisade-dev", "--", "generate-docs"])
            .current_dir(&root)
            .status();
        match status {
            Ok(st) if st.success() => println!("  docs/rules/{}.md", s.id),
            Ok(st) => {
                eprintln!("error: generate-docs failed ({st}); the rule's files are written");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: could not run cargo for generate-docs: {e}; the rule's files are written");
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "next: write the check, the doc comment and the references in {}, replace the \
         example fixtures, then `cargo test -p palisade-rules {}` (accept the fail \
         fixtures' snapshots with `cargo insta review`) and `cargo run -p palisade-dev -- \
         generate-docs`",
        s.files[0].display(),
        s.id
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    if let Some(unknown) = args
        .iter()
        .find(|a| a.starts_with("--") && !["--check", "--no-docs"].contains(&a.as_str()))
    {
        eprintln!("error: unknown option {unknown}\n{USAGE}");
        return ExitCode::from(2);
    }
    match words.as_slice() {
        ["generate-docs"] => generate_docs(flag("--check")),
        ["new-rule", family, name] => new_rule(family, name, !flag("--no-docs")),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
