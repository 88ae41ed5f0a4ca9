//! Files: uploads (resumable attachments) and published releases.

use super::*;

/// What a chunk does to an upload, decided by the caller from the running SHA-256 (see
/// `crate::uploads`); the store applies it only if the upload is still at the chunk's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkVerdict {
    /// More bytes are to come: keep this running hash state.
    Partial(Vec<u8>),
    /// The last bytes, and the SHA-256 matches: complete.
    Complete,
    /// The last bytes, but the SHA-256 is `actual`: the upload starts again from 0.
    Mismatch {
        /// The SHA-256 of what arrived.
        actual: String,
    },
}

/// An attachment's metadata and upload state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The attachment's id.
    pub id: Uuid,
    /// The report it belongs to.
    pub report_id: Uuid,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Bytes received.
    pub received: u64,
    /// When the last byte arrived and the checksum matched.
    pub complete_at: Option<DateTime<Utc>>,
}

impl Attachment {
    /// Where its upload stands, as the device sees it.
    pub fn status(&self) -> UploadStatus {
        UploadStatus {
            id: self.id,
            offset: self.received,
            size: self.size,
            complete: self.complete_at.is_some(),
        }
    }
}

/// Why a storage call failed.
/// A published app release (without its bundle's bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The version (semantic versioning), which the signature is bound to.
    pub version: String,
    /// What the bundle installs on, as the updater names it: `{os}-{arch}-{bundle type}`
    /// (`linux-x86_64-deb`).
    pub platform: String,
    /// What changed.
    pub notes: String,
    /// The bundle's minisign signature (the `.sig` file's text).
    pub signature: String,
    /// The bundle's SHA-256 (hex), so a copy in memory is known to be this one.
    pub sha256: String,
    /// The bundle's size in bytes.
    pub size: u64,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

/// Attachments (resumable uploads), published profiles and releases.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Announces an attachment of a device's own report (idempotent).
    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError>;

    /// Appends a chunk at `offset` and applies `verdict` — only if the upload is still at
    /// `offset` (otherwise [`StoreError::OffsetMismatch`]). A mismatch resets the upload to 0
    /// (committed) and answers [`StoreError::ChecksumMismatch`].
    async fn append_chunk(
        &self,
        device: &Device,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
        verdict: ChunkVerdict,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError>;

    /// A device's own upload with its running hash state (`None` before the first chunk,
    /// or for uploads begun before the state was kept).
    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError>;

    /// A complete attachment of the region, for an officer.
    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError>;

    /// The stored chunk of an attachment of the region that starts at or after `offset`
    /// (its start and bytes), so that an attachment is read one chunk at a time.
    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Stores a signed region profile (checked by the caller); false when that version of the
    /// region's profile is published already.
    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The newest published profile of every region (signed profiles' JSON).
    async fn published_profiles(&self) -> Result<Vec<String>, StoreError>;

    /// Stores an app release (its bundle checked by the caller); false when that version is
    /// published already for that platform, whatever its bytes: it is never replaced.
    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError>;

    /// Every published release, without the bundles' bytes.
    async fn releases(&self) -> Result<Vec<Release>, StoreError>;

    /// A published release's bundle for a platform.
    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;
}
