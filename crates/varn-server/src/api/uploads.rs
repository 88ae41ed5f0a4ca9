//! Attachments: declared, then uploaded in chunks that resume where they stopped.

use super::*;

/// `PUT /v1/reports/{report}/attachments/{id}`: announce an attachment (idempotent).
#[utoipa::path(
    put,
    path = paths::REPORT_ATTACHMENT,
    summary = "Announce an attachment of a report (idempotent)",
    security(("bearer" = [])),
    params(
        ("report" = Uuid, Path, description = "The report's id (sent first)"),
        ("id" = Uuid, Path, description = "The client's UUIDv7 for this attachment"),
    ),
    request_body = AttachmentMeta,
    responses(
        (status = 200, description = "Where the upload stands", body = UploadStatus),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        DeviceProblems,
        BodyProblems,
    )
)]
pub async fn put_attachment(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath((report, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(meta): ApiJson<AttachmentMeta>,
) -> Result<Response> {
    meta.validate()?;
    // Announcing again (a retry) is not counted again.
    let known = match state.store().upload(&device, id).await {
        Ok(_) => true,
        Err(StoreError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    let taken = if known {
        None
    } else {
        Some(
            state
                .quotas()
                .take(device.id, Quota::Attachment, 1)
                .map_err(over)?,
        )
    };
    let result = state
        .store()
        .create_attachment(&device, report, id, &meta, state.now())
        .await;
    if let (Err(_), Some(t)) = (&result, taken) {
        state.quotas().give_back(t);
    }
    Ok(Json(result?).into_response())
}

/// `GET /v1/attachments/{id}`: where the upload stands.
#[utoipa::path(
    get,
    path = paths::UPLOAD,
    summary = "Where an upload stands (resume from offset)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
    ),
    responses(
        (status = 200, description = "Upload status", body = UploadStatus),
        (status = 400, response = ProblemAnswer),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn get_upload(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    Ok(Json(state.store().upload(&device, id).await?.0.status()).into_response())
}

pub use varn_core::paths::UPLOAD_OFFSET;

/// `PATCH /v1/attachments/{id}`: a chunk starting at `Upload-Offset`.
#[utoipa::path(
    patch,
    path = paths::UPLOAD,
    summary = "Upload a chunk starting at Upload-Offset",
    description = "Chunks of at most 4 MiB. A chunk that does not start at the server's offset is a 409 whose problem carries the offset to resume from. When the last byte arrives the SHA-256 is checked; on mismatch the upload is reset to 0 (422).",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The attachment's id"),
        ("Upload-Offset" = inline(UploadOffset), Header),
    ),
    request_body(content = inline(Octets), content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Upload status after the chunk", body = UploadStatus),
        (status = 400, response = ProblemAnswer),
        (status = 403, response = ProblemAnswer),
        (status = 404, response = ProblemAnswer),
        (status = 409, response = ProblemAnswer),
        (status = 413, response = ProblemAnswer),
        (status = 422, response = ProblemAnswer),
        DeviceProblems,
    )
)]
pub async fn patch_upload(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let offset: u64 = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request("send the chunk's start as the Upload-Offset header (bytes)")
        })?;
    let is_octets = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    if !is_octets {
        return Err(ApiError::bad_request(
            "send the chunk as Content-Type: application/octet-stream",
        ));
    }
    if body.len() > varn_core::wire::MAX_CHUNK_BYTES {
        return Err(ApiError::bad_request(format!(
            "a chunk may hold at most {} bytes",
            varn_core::wire::MAX_CHUNK_BYTES
        )));
    }
    let (a, hash_state) = state.store().upload(&device, id).await?;
    if a.complete_at.is_some() {
        // A retry of the last chunk whose answer was lost: already done.
        return Ok(Json(a.status()).into_response());
    }
    if offset != a.received {
        return Err(StoreError::OffsetMismatch {
            expected: a.received,
        }
        .into());
    }
    if offset + body.len() as u64 > a.size {
        return Err(StoreError::TooLarge { size: a.size }.into());
    }
    if body.is_empty() {
        return Ok(Json(a.status()).into_response());
    }
    let taken = state
        .quotas()
        .take(device.id, Quota::UploadBytes, body.len() as u64)
        .map_err(over)?;
    // An upload begun before the running hash was kept (or whose state is damaged) has its
    // state rebuilt from the chunks once.
    let hash_state = match (hash_state, a.received) {
        (Some(s), _) if crate::uploads::state_readable(&s) => Some(s),
        (_, 0) => None,
        (_, upto) => Some(crate::uploads::rebuild(&state, &device.region_id, id, upto).await?),
    };
    // Hashing 4 MiB takes milliseconds: off the async workers, and never on the database's
    // writer thread.
    let (verdict, body) = tokio::task::spawn_blocking(move || {
        let v = crate::uploads::judge(&a, hash_state.as_deref(), &body);
        (v, body)
    })
    .await
    .map_err(|e| ApiError::unavailable(format!("hashing the chunk failed: {e}")))?;
    let verdict = verdict?;
    let result = state
        .store()
        .append_chunk(&device, id, offset, body.to_vec(), verdict, state.now())
        .await;
    if matches!(
        result,
        Err(StoreError::OffsetMismatch { .. }
            | StoreError::Backend(_)
            | StoreError::TooLarge { .. })
    ) {
        state.quotas().give_back(taken);
    }
    Ok(Json(result?).into_response())
}
