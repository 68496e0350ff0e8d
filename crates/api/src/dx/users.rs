//! `/user-xxxx/describe`, which `dx whoami` prints the handle of. A caller describes
//! themselves; anyone else is `ResourceNotFound`, as a user that does not exist, since Ferry
//! never tells a caller who else has an account (DNAnexus shows other users' names).

use ferry_domain::ids::Username;
use serde_json::{Value, json};

use super::describe::user_id;
use super::{Call, DxError};

#[utoipa::path(post, path = "/user-{user}/describe", tag = "dx", params(("user" = String, Path, description = "The handle after user-")), responses((status = 200, description = "{id, class, handle, first, middle, last, email, created}: yourself only")))]
pub(crate) fn describe(call: &Call, username: &Username) -> Result<Value, DxError> {
    let user = &call.caller.user;
    if &user.username != username {
        return Err(DxError::entity_not_found(user_id(username)));
    }
    // DNAnexus keeps the first, middle and last names apart; Ferry keeps one name.
    let (first, last) = user.name.split_once(' ').unwrap_or((&user.name, ""));
    Ok(json!({
        "id": user_id(&user.username),
        "class": "user",
        "handle": user.username,
        "first": first,
        "middle": "",
        "last": last,
        "created": user.created_at.timestamp_millis(),
        "email": user.email,
    }))
}
