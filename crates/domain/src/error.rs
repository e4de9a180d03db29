//! Errors that cross the storage seam and the validation errors of user input.
//!
//! Stores name what went wrong (`NotFound`, `Conflict { field }`) so the HTTP layer can
//! answer 404 or 409 without knowing SQL; anything else is `Backend`, which the HTTP
//! layer logs and never shows. Validation errors name the field and say what is wrong
//! in words a writer understands, so forms and the CLI can show them next to the input.

use std::fmt;

/// What a store reports when an operation fails.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value (a slug, an email) is already used by another row.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// The database failed; the message is for logs, not for users.
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Wraps any backend error (sqlx, I/O) without leaking its type into the domain.
    pub fn backend(err: impl fmt::Display) -> Self {
        StoreError::Backend(err.to_string())
    }
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// All problems found in one input, so a form can show every one of them at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for one field, if that field has a problem.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `Ok(())` when nothing was added, so validation can end with `errors.into_result()?`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
