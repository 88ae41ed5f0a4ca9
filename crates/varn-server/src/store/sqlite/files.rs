//! Attachments (resumable uploads), published profiles and releases.

use super::*;

pub(super) const ATTACHMENT_COLS: &str =
    "id, report_id, filename, content_type, size, sha256, received, complete_at";

pub(super) fn attachment_row(r: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        report_id: parse_uuid(&r.get::<_, String>(1)?)?,
        filename: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        sha256: r.get(5)?,
        received: r.get::<_, i64>(6)? as u64,
        complete_at: opt_ts(r.get(7)?)?,
    })
}

/// Loads a device's own attachment with its running hash state: `NotFound` if missing,
/// `OtherDevice` if not its own.
pub(super) fn own_upload(
    c: &Connection,
    device: &Device,
    id: Uuid,
) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
    let row: Option<(Attachment, Uuid, Option<Vec<u8>>)> = c
        .query_row(
            &format!(
                "SELECT {ATTACHMENT_COLS}, device_id, hash_state FROM attachments
                 WHERE id = ?1 AND region_id = ?2"
            ),
            params![id.to_string(), device.region_id],
            |r| {
                Ok((
                    attachment_row(r)?,
                    parse_uuid(&r.get::<_, String>(8)?)?,
                    r.get(9)?,
                ))
            },
        )
        .optional()?;
    own(row.as_ref().map(|(_, owner, _)| *owner), device)?;
    let (a, _, state) = row.ok_or(StoreError::NotFound)?;
    Ok((a, state))
}

/// Loads a device's own attachment.
pub(super) fn own_attachment(
    c: &Connection,
    device: &Device,
    id: Uuid,
) -> Result<Attachment, StoreError> {
    own_upload(c, device, id).map(|(a, _)| a)
}

#[async_trait]
impl crate::store::FileStore for SqliteStore {
    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let (device, meta) = (device.clone(), meta.clone());
        self.write(move |c| {
            let owner = c
                .query_row(
                    "SELECT device_id FROM reports WHERE id = ?1",
                    [report_id.to_string()],
                    |r| parse_uuid(&r.get::<_, String>(0)?),
                )
                .optional()?;
            own(owner, &device)?;
            match own_attachment(c, &device, id) {
                Ok(a) => {
                    let same = a.report_id == report_id
                        && a.filename == meta.filename
                        && a.content_type == meta.content_type
                        && a.size == meta.size
                        && a.sha256 == meta.sha256;
                    return if same {
                        Ok(a.status())
                    } else {
                        Err(StoreError::MetaConflict)
                    };
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
            // An empty file is complete at once, if its checksum is the empty one.
            let complete = if meta.size == 0 {
                let empty = hex::encode(Sha256::digest(b""));
                if meta.sha256 != empty {
                    return Err(StoreError::ChecksumMismatch {
                        expected: meta.sha256.clone(),
                        actual: empty,
                    });
                }
                Some(ts(now))
            } else {
                None
            };
            c.execute(
                "INSERT INTO attachments (id, report_id, device_id, filename, content_type, size,
                    sha256, received, complete_at, created_at, region_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10)",
                params![
                    id.to_string(),
                    report_id.to_string(),
                    device.id.to_string(),
                    meta.filename,
                    meta.content_type,
                    meta.size as i64,
                    meta.sha256,
                    complete,
                    ts(now),
                    device.region_id
                ],
            )?;
            Ok(UploadStatus {
                id,
                offset: 0,
                size: meta.size,
                complete: meta.size == 0,
            })
        })
        .await
    }

    async fn append_chunk(
        &self,
        device: &Device,
        id: Uuid,
        offset: u64,
        bytes: Vec<u8>,
        verdict: ChunkVerdict,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let device = device.clone();
        // The reset after a mismatch must be committed even though the answer is an error,
        // so the inner result travels through a successful write.
        let outcome = self
            .write(
                move |c| -> Result<Result<UploadStatus, StoreError>, StoreError> {
                    let a = own_attachment(c, &device, id)?;
                    let end = match chunk_plan(&a, offset, bytes.len())? {
                        ChunkPlan::Answer(status) => return Ok(Ok(status)),
                        ChunkPlan::Store { end } => end,
                    };
                    let (state, complete_at) = match verdict {
                        ChunkVerdict::Mismatch { actual } => {
                            c.execute(
                                "DELETE FROM attachment_chunks WHERE attachment_id = ?1",
                                [id.to_string()],
                            )?;
                            c.execute(
                                "UPDATE attachments SET received = 0, hash_state = NULL WHERE id = ?1",
                                [id.to_string()],
                            )?;
                            return Ok(Err(StoreError::ChecksumMismatch {
                                expected: a.sha256,
                                actual,
                            }));
                        }
                        ChunkVerdict::Partial(state) => (Some(state), None),
                        ChunkVerdict::Complete => (None, Some(ts(now))),
                    };
                    c.execute(
                        "INSERT INTO attachment_chunks (attachment_id, offset, data, region_id)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![id.to_string(), offset as i64, bytes, device.region_id],
                    )?;
                    c.execute(
                        "UPDATE attachments SET received = ?1, hash_state = ?2, complete_at = ?3
                         WHERE id = ?4",
                        params![end as i64, state, complete_at, id.to_string()],
                    )?;
                    let a = own_attachment(c, &device, id)?;
                    Ok(Ok(a.status()))
                },
            )
            .await?;
        outcome
    }

    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (region, signed) = (region_id.to_string(), signed.to_string());
        self.write(move |c| {
            Ok(c.execute(
                "INSERT INTO published_profiles (region_id, version, signed, published_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![region, version, signed, ts(now)],
            )? == 1)
        })
        .await
    }

    async fn published_profiles(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT p.signed FROM published_profiles p
                 WHERE p.version = (SELECT max(version) FROM published_profiles q
                                    WHERE q.region_id = p.region_id)
                 ORDER BY p.region_id",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .await
    }

    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError> {
        let (r, bundle) = (release.clone(), bundle.to_vec());
        self.write(move |c| {
            Ok(c.execute(
                "INSERT INTO app_releases
                     (version, platform, notes, signature, sha256, size, bundle, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    r.version,
                    r.platform,
                    r.notes,
                    r.signature,
                    r.sha256,
                    r.size as i64,
                    bundle,
                    ts(r.published_at)
                ],
            )? == 1)
        })
        .await
    }

    async fn releases(&self) -> Result<Vec<Release>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT version, platform, notes, signature, sha256, size, published_at
                 FROM app_releases ORDER BY published_at, version, platform",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Release {
                    version: r.get(0)?,
                    platform: r.get(1)?,
                    notes: r.get(2)?,
                    signature: r.get(3)?,
                    sha256: r.get(4)?,
                    size: r.get::<_, i64>(5)?.max(0) as u64,
                    published_at: parse_ts(&r.get::<_, String>(6)?)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<Release>>>()?)
        })
        .await
    }

    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (version, platform) = (version.to_string(), platform.to_string());
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT bundle FROM app_releases WHERE version = ?1 AND platform = ?2",
                [version, platform],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
        let device = device.clone();
        self.read(move |c| own_upload(c, &device, id)).await
    }

    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {} FROM attachments a JOIN reports r ON r.id = a.report_id
                     WHERE a.id = ?1 AND r.region_id = ?2 AND a.region_id = ?2",
                    ATTACHMENT_COLS
                        .split(", ")
                        .map(|col| format!("a.{col}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                params![id.to_string(), region],
                attachment_row,
            )
            .optional()?
            .filter(|a| a.complete_at.is_some())
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT offset, data FROM attachment_chunks
                 WHERE attachment_id = ?1 AND region_id = ?2 AND offset >= ?3
                 ORDER BY offset LIMIT 1",
                params![id.to_string(), region, offset as i64],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
        })
        .await
    }
}
