//! `palisade-dev`: development tasks. `generate-docs [--check]`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate-docs") => {
            let check = args.iter().any(|a| a == "--check");
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
        _ => {
            eprintln!("usage: palisade-dev generate-docs [--check]");
            ExitCode::from(2)
        }
    }
}
