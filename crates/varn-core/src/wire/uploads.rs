//! Attachments on the wire: declared with their size and SHA-256, then uploaded in chunks.

use super::*;

/// `PUT /v1/reports/{report}/attachments/{id}`: announce an attachment before its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachmentMeta {
    /// The file's name as the person picked it.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::filename))]
    pub filename: String,
    /// MIME type, e.g. `image/jpeg`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub content_type: String,
    /// Size in bytes.
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::attachment_size))]
    pub size: u64,
    /// SHA-256 of the whole file, lower-case hex.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::sha256))]
    pub sha256: String,
}

/// Where an upload stands: the next chunk must start at `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    /// The attachment's id.
    pub id: Uuid,
    /// Bytes received so far.
    pub offset: u64,
    /// Size announced.
    pub size: u64,
    /// True once all bytes arrived and the SHA-256 matched.
    pub complete: bool,
}

impl AttachmentMeta {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), WireError> {
        check_text("filename", &self.filename, MAX_SHORT_CHARS)?;
        check_text("content_type", &self.content_type, MAX_SHORT_CHARS)?;
        if self.filename.is_empty() {
            return Err(WireError::Invalid {
                field: "filename",
                message: "must not be empty".into(),
            });
        }
        if self.size > MAX_ATTACHMENT_BYTES {
            return Err(WireError::Invalid {
                field: "size",
                message: format!("at most {MAX_ATTACHMENT_BYTES} bytes"),
            });
        }
        let hex_ok = self.sha256.len() == 64
            && self
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !hex_ok {
            return Err(WireError::Invalid {
                field: "sha256",
                message: "64 lower-case hex digits".into(),
            });
        }
        Ok(())
    }
}
