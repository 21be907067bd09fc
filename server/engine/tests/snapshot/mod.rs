//! Reviewed snapshots: a missing one is written, `UPDATE_EXPECT=1` rewrites them all, and a
//! difference is reported with both texts.

use std::{fs, path::Path};

/// Compares `actual` with the snapshot at `path`; the failure text when they differ.
pub(crate) fn check(path: &Path, actual: &str) -> Option<String> {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    match fs::read_to_string(path) {
        Ok(expected) if !update => {
            (expected != actual).then(|| format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()))
        }
        _ => {
            fs::write(path, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            None
        }
    }
}
