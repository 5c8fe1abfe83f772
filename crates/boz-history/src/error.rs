//! Errors of the history readers.

use std::path::PathBuf;

use boz_common::error::{BozError, ErrorKind};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HistoryError {
    #[error("cannot read {path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// A row that does not parse; `row` counts from 1 after the header (CSV) or from 1 (others).
    #[error("{path} row {row}, column {column}: {reason}")]
    Row {
        path: PathBuf,
        row: usize,
        column: String,
        reason: String,
    },
}

impl HistoryError {
    pub(crate) fn file(path: &std::path::Path, reason: impl ToString) -> HistoryError {
        HistoryError::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn row(
        path: &std::path::Path,
        row: usize,
        column: &str,
        reason: impl ToString,
    ) -> HistoryError {
        HistoryError::Row {
            path: path.to_path_buf(),
            row,
            column: column.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl From<HistoryError> for BozError {
    fn from(e: HistoryError) -> BozError {
        BozError::new(
            ErrorKind::ValidationError,
            e.to_string(),
            serde_json::Map::new(),
        )
    }
}
