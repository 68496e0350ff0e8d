//! The DNAnexus dialect: `POST /{id-or-class}/{method}`.

mod error;

pub use error::{DxError, DxErrorType};
