//! Attachments (resumable uploads), published profiles and releases.

use super::*;

pub(super) const ATTACHMENT_COLS: &str =
    "a.id, a.report_id, a.filename, a.content_type, a.size, a.sha256,
    a.received, a.complete_at";

pub(super) fn attachment_row(r: &Row) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.try_get(0)?,
        report_id: r.try_get(1)?,
        filename: r.try_get(2)?,
        content_type: r.try_get(3)?,
        size: r.try_get::<_, i64>(4)? as u64,
        sha256: r.try_get(5)?,
        received: r.try_get::<_, i64>(6)? as u64,
        complete_at: r.try_get(7)?,
    })
}

/// A device's own attachment: `NotFound` if missing, `OtherDevice` if not its own.
pub(super) async fn own_attachment(
    c: &impl GenericClient,
    device: &Device,
    id: Uuid,
    lock: bool,
) -> Result<Attachment, StoreError> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLS}, a.device_id FROM attachments a
         WHERE a.id = $1 AND a.region_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let r = c.opt(&sql, &[&id, &device.region_id]).await?;
    let owner: Option<Uuid> = r.as_ref().map(|r| r.try_get(8)).transpose()?;
    own(owner, device)?;
    attachment_row(&r.ok_or(StoreError::NotFound)?)
}

#[async_trait]
impl crate::store::FileStore for PgStore {
    async fn create_attachment(
        &self,
        device: &Device,
        report_id: Uuid,
        id: Uuid,
        meta: &AttachmentMeta,
        now: DateTime<Utc>,
    ) -> Result<UploadStatus, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let owner: Option<Uuid> = tx
            .opt(
                "SELECT device_id FROM reports WHERE id = $1 FOR SHARE",
                &[&report_id],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        own(owner, device)?;
        // An empty file is complete at once, if its checksum is the empty one.
        let complete = if meta.size == 0 {
            let empty = hex::encode(Sha256::digest(b""));
            if meta.sha256 != empty {
                return Err(StoreError::ChecksumMismatch {
                    expected: meta.sha256.clone(),
                    actual: empty,
                });
            }
            Some(now)
        } else {
            None
        };
        tx.run(
            "INSERT INTO attachments (id, report_id, device_id, filename, content_type, size,
                sha256, received, complete_at, created_at, region_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)
             ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &report_id,
                &device.id,
                &meta.filename,
                &meta.content_type,
                &(meta.size as i64),
                &meta.sha256,
                &complete,
                &now,
                &device.region_id,
            ],
        )
        .await?;
        let a = own_attachment(&tx, device, id, false).await?;
        let same = a.report_id == report_id
            && a.filename == meta.filename
            && a.content_type == meta.content_type
            && a.size == meta.size
            && a.sha256 == meta.sha256;
        if !same {
            return Err(StoreError::MetaConflict);
        }
        tx.commit().await?;
        Ok(a.status())
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
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let a = own_attachment(&tx, device, id, true).await?;
        let end = match chunk_plan(&a, offset, bytes.len())? {
            ChunkPlan::Answer(status) => return Ok(status),
            ChunkPlan::Store { end } => end,
        };
        let (state, complete_at) = match verdict {
            ChunkVerdict::Mismatch { actual } => {
                // The reset is committed although the answer is an error.
                tx.run(
                    "DELETE FROM attachment_chunks WHERE attachment_id = $1",
                    &[&id],
                )
                .await?;
                tx.run(
                    "UPDATE attachments SET received = 0, hash_state = NULL WHERE id = $1",
                    &[&id],
                )
                .await?;
                tx.commit().await?;
                return Err(StoreError::ChecksumMismatch {
                    expected: a.sha256,
                    actual,
                });
            }
            ChunkVerdict::Partial(state) => (Some(state), None),
            ChunkVerdict::Complete => (None, Some(now)),
        };
        tx.run(
            "INSERT INTO attachment_chunks (attachment_id, \"offset\", data, region_id)
             VALUES ($1, $2, $3, $4)",
            &[&id, &(offset as i64), &bytes, &device.region_id],
        )
        .await?;
        tx.run(
            "UPDATE attachments SET received = $1, hash_state = $2, complete_at = $3 WHERE id = $4",
            &[&(end as i64), &state, &complete_at, &id],
        )
        .await?;
        tx.commit().await?;
        Ok(UploadStatus {
            id,
            offset: end,
            size: a.size,
            complete: complete_at.is_some(),
        })
    }

    async fn publish_profile(
        &self,
        region_id: &str,
        version: u32,
        signed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        Ok(c.run(
            "INSERT INTO published_profiles (region_id, version, signed, published_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&region_id, &i64::from(version), &signed, &now],
        )
        .await?
            == 1)
    }

    async fn published_profiles(&self) -> Result<Vec<String>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT DISTINCT ON (region_id) signed FROM published_profiles
             ORDER BY region_id, version DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    async fn add_release(&self, release: &Release, bundle: &[u8]) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let r = release;
        Ok(c.run(
            "INSERT INTO app_releases
                 (version, platform, notes, signature, sha256, size, bundle, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &r.version,
                &r.platform,
                &r.notes,
                &r.signature,
                &r.sha256,
                &(r.size as i64),
                &bundle,
                &r.published_at,
            ],
        )
        .await?
            == 1)
    }

    async fn releases(&self) -> Result<Vec<Release>, StoreError> {
        let c = self.conn().await?;
        c.all(
            "SELECT version, platform, notes, signature, sha256, size, published_at
             FROM app_releases ORDER BY published_at, version, platform",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Release {
                version: r.try_get(0)?,
                platform: r.try_get(1)?,
                notes: r.try_get(2)?,
                signature: r.try_get(3)?,
                sha256: r.try_get(4)?,
                size: r.try_get::<_, i64>(5)?.max(0) as u64,
                published_at: r.try_get(6)?,
            })
        })
        .collect()
    }

    async fn release_bundle(
        &self,
        version: &str,
        platform: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let c = self.conn().await?;
        Ok(
            match c
                .opt(
                    "SELECT bundle FROM app_releases WHERE version = $1 AND platform = $2",
                    &[&version, &platform],
                )
                .await?
            {
                Some(row) => Some(row.try_get(0)?),
                None => None,
            },
        )
    }

    async fn upload(
        &self,
        device: &Device,
        id: Uuid,
    ) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
        let c = self.conn().await?;
        let a = own_attachment(&c, device, id, false).await?;
        let state: Option<Vec<u8>> = c
            .one("SELECT hash_state FROM attachments WHERE id = $1", &[&id])
            .await?
            .try_get(0)?;
        Ok((a, state))
    }

    async fn attachment(&self, region_id: &str, id: Uuid) -> Result<Attachment, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT {ATTACHMENT_COLS} FROM attachments a
                 JOIN reports r ON r.id = a.report_id
                 WHERE a.id = $1 AND r.region_id = $2 AND a.region_id = $2"
            ),
            &[&id, &region_id],
        )
        .await?
        .as_ref()
        .map(attachment_row)
        .transpose()?
        .filter(|a| a.complete_at.is_some())
        .ok_or(StoreError::NotFound)
    }

    async fn attachment_chunk(
        &self,
        region_id: &str,
        id: Uuid,
        offset: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            "SELECT \"offset\", data FROM attachment_chunks
             WHERE attachment_id = $1 AND region_id = $2 AND \"offset\" >= $3
             ORDER BY \"offset\" LIMIT 1",
            &[&id, &region_id, &(offset as i64)],
        )
        .await?
        .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
        .transpose()
    }
}
