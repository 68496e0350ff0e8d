//! Ferry's domain: entities, ids, permission rules and naming rules.
//!
//! Pure code: nothing here knows of Diesel, actix or HTTP. Request fields are parsed into the
//! newtypes of this crate at the API boundary, so a value of one of these types is always valid.

pub mod access;
pub mod clone;
pub mod collision;
pub mod copy;
pub mod dx_query;
pub mod error;
pub mod folder_ref;
pub mod glob;
pub mod ids;
pub mod links;
pub mod model;
pub mod moving;
pub mod name;
pub mod naming;
pub mod path;
pub mod permission;
pub mod row_ids;
pub mod text;
pub mod upload;

pub use error::DomainError;
