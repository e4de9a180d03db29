//! Reads the YouTube Spam Collection's CSV files from a directory: shared by the
//! `train_spam` example and the cross-validation test.

use std::path::{Path, PathBuf};

use broadsheet_domain::spam::{Sample, parse_collection};

/// Each `.csv` file of `dir` by name, with its comments, in name order.
pub fn read(dir: &Path) -> Result<Vec<(String, Vec<Sample>)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} holds no .csv files", dir.display()));
    }
    files
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
            let samples = parse_collection(&text).map_err(|e| format!("{name}: {e}"))?;
            Ok((name.into_owned(), samples))
        })
        .collect()
}
