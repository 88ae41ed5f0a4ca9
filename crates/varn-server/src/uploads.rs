//! Attachment uploads hashed as they arrive: each chunk advances a running SHA-256 whose
//! state is stored with the upload, so the last chunk decides completeness without reading
//! the whole file back (which, for 512 MiB, used to hold the database writer that also
//! commits alarms). Attachments are served the same way, one stored chunk at a time.

use axum::body::{Body, Bytes};
use futures_util::stream;
use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{Attachment, ChunkVerdict, StoreError};
use crate::AppState;

/// The hash state could not be read back (a damaged row).
fn damaged(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored upload hash state: {e}"))
}

fn restore(state: Option<&[u8]>) -> Result<Sha256, StoreError> {
    match state {
        None => Ok(Sha256::new()),
        Some(bytes) => {
            let serialized = bytes.try_into().map_err(|_| damaged("wrong length"))?;
            Sha256::deserialize(serialized).map_err(damaged)
        }
    }
}

/// Whether a stored hash state can be read back (a damaged one is rebuilt from the chunks).
pub fn state_readable(state: &[u8]) -> bool {
    restore(Some(state)).is_ok()
}

/// What `bytes`, arriving at the end of what the upload holds (`state` is the hash of all
/// of it so far), does: more to come with the new state, complete, or a mismatch.
pub fn judge(
    a: &Attachment,
    state: Option<&[u8]>,
    bytes: &[u8],
) -> Result<ChunkVerdict, StoreError> {
    let mut hasher = restore(state)?;
    hasher.update(bytes);
    let end = a.received + bytes.len() as u64;
    if end < a.size {
        return Ok(ChunkVerdict::Partial(hasher.serialize().to_vec()));
    }
    let actual = hex::encode(hasher.finalize());
    Ok(if actual == a.sha256 {
        ChunkVerdict::Complete
    } else {
        ChunkVerdict::Mismatch { actual }
    })
}

/// The hash state of an upload begun before states were kept (or whose state is missing):
/// read its chunks back once.
pub async fn rebuild(
    state: &AppState,
    region: &str,
    id: Uuid,
    upto: u64,
) -> Result<Vec<u8>, StoreError> {
    let mut hasher = Sha256::new();
    let mut offset = 0;
    while offset < upto {
        let Some((start, data)) = state.store().attachment_chunk(region, id, offset).await? else {
            break;
        };
        if start != offset {
            return Err(damaged(format!("a gap at byte {offset}")));
        }
        hasher.update(&data);
        offset += data.len() as u64;
    }
    if offset != upto {
        return Err(damaged(format!("{offset} of {upto} bytes stored")));
    }
    Ok(hasher.serialize().to_vec())
}

/// An attachment's bytes as a response body, read from the store one chunk at a time (at
/// most one chunk in memory per download, however large the file).
pub fn body(state: AppState, region: String, a: &Attachment) -> Body {
    let id = a.id;
    let chunks = stream::try_unfold(
        (state, region, 0u64),
        move |(state, region, offset)| async move {
            match state.store().attachment_chunk(&region, id, offset).await {
                Ok(Some((start, data))) => {
                    let next = start + data.len() as u64;
                    Ok(Some((Bytes::from(data), (state, region, next))))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        },
    );
    Body::from_stream(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(data: &[u8]) -> Attachment {
        Attachment {
            id: Uuid::now_v7(),
            report_id: Uuid::now_v7(),
            filename: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            size: data.len() as u64,
            sha256: hex::encode(Sha256::digest(data)),
            received: 0,
            complete_at: None,
        }
    }

    /// The running hash over chunks of any size, through stored states, equals the hash
    /// of the whole file; a changed byte is a mismatch with the actual hash.
    #[test]
    fn a_running_hash_through_stored_states_equals_the_whole_files() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for chunk in [1usize, 63, 64, 65, 4096, 9_999, 10_000] {
            let mut a = attachment(&data);
            let mut state: Option<Vec<u8>> = None;
            let mut verdict = None;
            for part in data.chunks(chunk) {
                match judge(&a, state.as_deref(), part).unwrap() {
                    ChunkVerdict::Partial(s) => state = Some(s),
                    v => verdict = Some(v),
                }
                a.received += part.len() as u64;
            }
            assert_eq!(verdict, Some(ChunkVerdict::Complete), "chunks of {chunk}");
        }
        let mut bad = data.clone();
        bad[5000] ^= 1;
        let a = attachment(&data);
        match judge(&a, None, &bad).unwrap() {
            ChunkVerdict::Mismatch { actual } => {
                assert_eq!(actual, hex::encode(Sha256::digest(&bad)))
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn a_damaged_state_is_an_error_not_a_panic() {
        let a = attachment(b"hello world");
        assert!(judge(&a, Some(&[1, 2, 3]), b"hello").is_err());
    }
}
