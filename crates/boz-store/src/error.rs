//! Database errors as the system's errors. Messages name the operation and the problem, never
//! the connection URL or bound values.

use std::fmt::Display;

use boz_common::error::{BozError, ErrorKind};

/// Maps a driver error for `op` to a `BozError`.
pub(crate) fn db_error(op: &str, e: sqlx::Error) -> BozError {
    match &e {
        sqlx::Error::RowNotFound => BozError::not_found("row", op),
        sqlx::Error::Database(d) if d.is_unique_violation() => BozError::conflict(
            format!("{op}: already exists"),
            boz_common::context!("operation" => op, "constraint" => d.constraint().unwrap_or_default()),
        ),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => BozError::new(
            ErrorKind::ValidationError,
            format!("{op}: refers to a row that does not exist"),
            boz_common::context!("operation" => op, "constraint" => d.constraint().unwrap_or_default()),
        ),
        sqlx::Error::Database(d) if d.is_check_violation() => BozError::new(
            ErrorKind::ValidationError,
            format!("{op}: a value is not allowed ({})", d.message()),
            boz_common::context!("operation" => op),
        ),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            BozError::upstream("database", format!("{op}: {e}"))
        }
        _ => BozError::upstream("database", format!("{op}: {e}")),
    }
}

/// A column that could not be read.
pub(crate) fn decode_error(column: &str, e: sqlx::Error) -> BozError {
    BozError::internal(format!("cannot read column {column}: {e}"))
}

/// A stored value that is not valid any more (e.g. a city no longer configured).
pub(crate) fn invalid_row(what: &str, e: impl Display) -> BozError {
    BozError::internal(format!("stored {what} is not valid: {e}"))
}
