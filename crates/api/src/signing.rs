//! The key that signs the URLs which authorise themselves (SBG download links, DNAnexus upload
//! and download URLs). It is made once and kept in the database (`server_secrets`), so that every
//! `ferry serve` process on the database accepts every URL, across restarts.

use crate::db::{self, RequestClaim};
use ferry_store::{Store, StoreError, secrets};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};

/// The name of the key among the server secrets.
const URL_SIGNING_KEY_NAME: &str = "url_signing_key";

/// The key, read from the database (made there on first use) once per process.
#[derive(Clone, Default)]
pub(crate) struct SharedKey(Arc<OnceLock<Vec<u8>>>);

impl std::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedKey(..)")
    }
}

impl SharedKey {
    pub(crate) async fn get(&self, store: &Store) -> Result<&[u8], StoreError> {
        if let Some(key) = self.0.get() {
            return Ok(key);
        }
        let key = db::write(
            store,
            RequestClaim::none(),
            |conn| -> Result<_, StoreError> {
                let stored = secrets::get_or_create(conn, URL_SIGNING_KEY_NAME, || {
                    hex::encode(rand::random::<[u8; 32]>())
                })?;
                hex::decode(&stored).map_err(|e| {
                    StoreError::Corrupt(format!("server secret {URL_SIGNING_KEY_NAME}: {e}"))
                })
            },
        )
        .await?;
        Ok(self.0.get_or_init(|| key))
    }
}

/// The signature of a URL that authorises itself: hex HMAC-SHA256, under `key`, of what it is
/// for (`message`, which names the purpose, so that no URL passes for another kind) and its
/// expiry in unix seconds.
pub(crate) fn signature(key: &[u8], message: &str, expires: i64) -> String {
    hex::encode(mac(key, message, expires).finalize().into_bytes())
}

/// Whether `signature` (hex) was made by [`signature`] for `message` and `expires`, and
/// `expires` is not before `now`. Compared in constant time.
pub(crate) fn verify(key: &[u8], message: &str, expires: i64, signature: &str, now: i64) -> bool {
    let Ok(signature) = hex::decode(signature) else {
        return false;
    };
    now <= expires && mac(key, message, expires).verify_slice(&signature).is_ok()
}

fn mac(key: &[u8], message: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    mac.update(b"\n");
    mac.update(expires.to_string().as_bytes());
    mac
}
