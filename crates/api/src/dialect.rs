//! Which dialect a request path answers errors in, decided here only: every answer given
//! outside a route's own handler (an unreadable path or query, a refused preflight, an unknown
//! route, the idempotency middleware's refusals, the OpenAPI document's error schemas) asks.

use crate::{admin, sbg};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `{status, code, message, more_info}`.
    Sbg,
    /// `{"error": {type, message}}`.
    Dx,
}

impl Dialect {
    /// The SBG dialect's paths and `/admin`, which borrows its shape, answer SBG errors; every
    /// other path answers DNAnexus errors.
    pub(crate) fn of_path(path: &str) -> Dialect {
        if sbg::owns_path(path) || admin::owns_path(path) {
            Dialect::Sbg
        } else {
            Dialect::Dx
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_admin_are_sbg_and_the_rest_is_dx() {
        for path in ["/v2", "/v2/files", "/admin", "/admin/audit"] {
            assert_eq!(Dialect::of_path(path), Dialect::Sbg, "{path}");
        }
        for path in [
            "/",
            "/v2files",
            "/administrator",
            "/file-xxxx/describe",
            "/system/whoami",
        ] {
            assert_eq!(Dialect::of_path(path), Dialect::Dx, "{path}");
        }
    }
}
