//! Attachments for the officer: images shown inline (bounded), everything else as bytes.

use super::*;

/// Types shown inline in the page; everything else downloads as bytes.
pub(super) const INLINE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Images up to this size are shown in the page (on request); larger ones download.
pub const MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// An attachment, streamed from the store one chunk at a time.
pub(super) async fn attachment(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let a = state.store().attachment(&o.region_id, id).await?;
    followup::record(&state, &o, AuditAction::ReadAttachment, "attachment", id).await?;
    let inline = INLINE_TYPES.contains(&a.content_type.as_str()) && a.size <= MAX_INLINE_BYTES;
    let content_type = if inline {
        a.content_type.clone()
    } else {
        "application/octet-stream".into()
    };
    let safe_name: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{safe_name}\"",
        if inline { "inline" } else { "attachment" }
    );
    let mut res = crate::uploads::body(state.clone(), o.region_id.clone(), &a).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(a.size));
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(res)
}
