//! Trains the comment spam model on the YouTube Spam Collection and writes it where the
//! build compiles it in:
//!
//! ```text
//! cargo run -p broadsheet-domain --example train_spam -- ../shared/data/spam
//! ```
//!
//! An optional second argument writes the model elsewhere.

mod collection;

use std::path::PathBuf;
use std::process::ExitCode;

use broadsheet_domain::spam::Model;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: train_spam <directory of the collection's .csv files> [model.json]");
        return ExitCode::FAILURE;
    };
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/spam_model.json"));
    let files = match collection::read(&dir) {
        Ok(files) => files,
        Err(problem) => {
            eprintln!("train_spam: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let groups: Vec<_> = files.into_iter().map(|(_, samples)| samples).collect();
    let model = Model::train(&groups);
    let json = serde_json::to_string(&model).expect("a model always serialises");
    if let Err(e) = std::fs::write(&out, json + "\n") {
        eprintln!("train_spam: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {}: {} spam and {} ham comments, {} buckets, threshold {:.3}",
        out.display(),
        model.spam_documents,
        model.ham_documents,
        model.weights.len(),
        model.threshold
    );
    ExitCode::SUCCESS
}
