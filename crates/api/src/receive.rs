//! Receiving a request body into the content store: the one upload path behind both dialects'
//! part URLs (a DNAnexus part becomes content of its own, an SBG part is written in place in its
//! upload's file). The body is written a buffer at a time in the blocking pool, so an upload
//! holds at most one buffer in memory whatever its size.

use actix_web::web::{self, BytesMut};
use ferry_store::StoreError;
use ferry_store::content::Sink;
use futures_util::StreamExt;

/// Bytes gathered before each write to the store.
const BUFFER_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
pub(crate) enum ReceiveError {
    /// The body is longer than the limit: reading stopped there.
    TooLong {
        limit: u64,
    },
    /// The client's body could not be read (a dropped connection, a bad chunk).
    Read(String),
    Store(StoreError),
}

impl From<std::io::Error> for ReceiveError {
    fn from(e: std::io::Error) -> Self {
        ReceiveError::Store(StoreError::from(e))
    }
}

fn pool_gone() -> ReceiveError {
    ReceiveError::Store(StoreError::Unavailable(
        "the blocking pool is shut down".into(),
    ))
}

/// Writes the body, of at most `limit` bytes, into the sink `open` makes (in the blocking
/// pool), and returns what the sink stored.
pub(crate) async fn receive<S: Sink>(
    mut payload: web::Payload,
    limit: u64,
    open: impl FnOnce() -> std::io::Result<S> + Send + 'static,
) -> Result<S::Stored, ReceiveError> {
    let mut writer = web::block(open).await.map_err(|_| pool_gone())??;
    let mut buffer = BytesMut::with_capacity(BUFFER_BYTES);
    let mut received = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ReceiveError::Read(e.to_string()))?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(ReceiveError::TooLong { limit });
        }
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= BUFFER_BYTES {
            let full = buffer.split().freeze();
            writer = web::block(move || writer.write(&full).map(|()| writer))
                .await
                .map_err(|_| pool_gone())??;
        }
    }
    let rest = buffer.freeze();
    web::block(move || {
        writer.write(&rest)?;
        writer.finish()
    })
    .await
    .map_err(|_| pool_gone())?
    .map_err(ReceiveError::from)
}
