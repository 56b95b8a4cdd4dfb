//! The documentation's code is tested code: every markdown file with Rust snippets is
//! included as doc-tests (so `cargo test` compiles and runs each snippet), no snippet hides in
//! an unlabelled fence, and the tutorial shows `examples/train_mlp.rs` as it is.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The markdown files a user reads: README.md, docs/*.md and each crate's README.md.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for dir in ["docs", "crates"] {
        for entry in fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if dir == "crates" {
                let readme = path.join("README.md");
                if readme.is_file() {
                    files.push(readme);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The language of each opening code fence in `text`, in order ("" for a bare fence).
fn fence_languages(text: &str) -> Vec<String> {
    let mut languages = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            if !open {
                languages.push(info.trim().to_string());
            }
            open = !open;
        }
    }
    languages
}

/// The bodies of the ```rust blocks of `text`, in order.
fn rust_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) if info.trim() == "rust" => current = Some(String::new()),
            (Some(body), Some(_)) => {
                blocks.push(std::mem::take(body));
                current = None;
            }
            (Some(body), None) => {
                body.push_str(line);
                body.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The file that must include `md` with `include_str!` for its snippets to run.
fn includer(md: &Path) -> (PathBuf, String) {
    let rel = md.strip_prefix(root()).unwrap();
    match rel.parent().and_then(|p| p.parent()) {
        Some(crates) if crates == Path::new("crates") => {
            (md.parent().unwrap().join("src/lib.rs"), "../README.md".to_string())
        }
        _ => (root().join("src/lib.rs"), format!("../{}", rel.display())),
    }
}

#[test]
fn every_markdown_file_with_rust_snippets_runs_them_as_doc_tests() {
    let mut checked = 0;
    for md in markdown_files() {
        if rust_blocks(&read(&md)).is_empty() {
            continue;
        }
        let (lib, include) = includer(&md);
        assert!(
            lib.is_file(),
            "{} has Rust snippets but its crate has no library to run them",
            md.display()
        );
        let needle = format!("include_str!(\"{include}\")");
        assert!(
            read(&lib).contains(&needle),
            "{} has Rust snippets, but {} does not include it as doc-tests ({needle})",
            md.display(),
            lib.display()
        );
        checked += 1;
    }
    // README.md, the tutorial and three crate READMEs at least.
    assert!(checked >= 5, "only {checked} files with Rust snippets found");
}

#[test]
fn no_code_fence_is_unlabelled() {
    // rustdoc compiles a bare fence as Rust, and a reader cannot tell what it is.
    for md in markdown_files() {
        let text = read(&md);
        let bare = fence_languages(&text).iter().filter(|l| l.is_empty()).count();
        assert_eq!(
            bare,
            0,
            "{}: {bare} code fences without a language (use text, sh, rust, ...)",
            md.display()
        );
    }
}

#[test]
fn the_tutorial_shows_examples_train_mlp_unchanged() {
    let example = read(&root().join("examples/train_mlp.rs"));
    let code: String = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let tutorial = read(&root().join("docs/tutorial.md"));
    assert!(
        rust_blocks(&tutorial).contains(&code),
        "docs/tutorial.md section 3 differs from examples/train_mlp.rs; copy the file's code (after its //! header) into the tutorial"
    );
}

#[test]
fn the_fence_parsers_see_what_is_there() {
    let text = "a\n```rust\nlet x = 1;\n```\n```\nbare\n```\n```sh\nls\n```\n";
    assert_eq!(fence_languages(text), vec!["rust", "", "sh"]);
    assert_eq!(rust_blocks(text), vec!["let x = 1;\n".to_string()]);
}
