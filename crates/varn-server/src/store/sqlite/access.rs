//! Devices, enrollment, officers and their sessions.

use super::*;
use crate::store::{NewSession, OfficerRole, SignedInBy};

pub(super) const DEVICE_COLS: &str =
    "id, region_id, name, role, created_at, revoked_at, revoked_by";

pub(super) fn device_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        name: r.get(2)?,
        role: parse_role(&r.get::<_, String>(3)?)?,
        created_at: parse_ts(&r.get::<_, String>(4)?)?,
        revoked_at: opt_ts(r.get(5)?)?,
        revoked_by: crate::store::Revoker::parse(r.get::<_, Option<String>>(6)?.as_deref()),
    })
}

pub(super) const OFFICER_COLS: &str = "o.id, o.region_id, o.username, o.display_name, \
    o.password_hash, o.disabled_at, o.role, o.subject, o.totp";

pub(super) fn officer_row(r: &Row<'_>) -> rusqlite::Result<Officer> {
    Ok(Officer {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        region_id: r.get(1)?,
        username: r.get(2)?,
        display_name: r.get(3)?,
        password_hash: r.get(4)?,
        disabled_at: opt_ts(r.get(5)?)?,
        role: officer_role(&r.get::<_, String>(6)?)?,
        subject: r.get(7)?,
        totp: r.get(8)?,
    })
}

fn officer_role(s: &str) -> rusqlite::Result<OfficerRole> {
    OfficerRole::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown officer role {s}").into(),
        )
    })
}

#[async_trait]
impl crate::store::AccessStore for SqliteStore {
    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (region, name, code) = (
            region_id.to_string(),
            name.to_string(),
            code_hash.to_string(),
        );
        self.write(move |c| {
            c.execute(
                "INSERT INTO enrollment_codes (code_hash, region_id, name, role, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![code, region, name, role.as_str(), ts(now), ts(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        let (codes, token) = (code_hashes.to_vec(), token_hash.to_string());
        self.write(move |c| {
            let mut row: Option<(String, String, String, String, Option<String>, String)> = None;
            for code in &codes {
                row = c
                    .query_row(
                        "SELECT region_id, name, role, expires_at, used_at, code_hash
                         FROM enrollment_codes WHERE code_hash = ?1",
                        [code],
                        |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        },
                    )
                    .optional()?;
                if row.is_some() {
                    break;
                }
            }
            let Some((region, name, role, expires, used, code)) = row else {
                return Err(StoreError::CodeUnknown);
            };
            if used.is_some() {
                return Err(StoreError::CodeUsed);
            }
            if parse_ts(&expires)? <= now {
                return Err(StoreError::CodeExpired);
            }
            c.execute(
                "INSERT INTO devices (id, region_id, name, role, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![device_id.to_string(), region, name, role, token, ts(now)],
            )?;
            c.execute(
                "UPDATE enrollment_codes SET used_at = ?1, device_id = ?2 WHERE code_hash = ?3",
                params![ts(now), device_id.to_string(), code],
            )?;
            Ok(Device {
                id: device_id,
                region_id: region,
                name,
                role: parse_role(&role)?,
                created_at: now,
                revoked_at: None,
                revoked_by: None,
            })
        })
        .await
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let token = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"),
                [token],
                device_row,
            )
            .optional()?)
        })
        .await
    }

    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: crate::store::Revoker,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE devices SET revoked_at = ?1, revoked_by = ?3
                 WHERE id = ?2 AND revoked_at IS NULL",
                params![ts(now), id.to_string(), by.as_str()],
            )? > 0)
        })
        .await
    }

    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let region = region_id.map(str::to_string);
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE ?1 IS NULL OR region_id = ?1
                 ORDER BY created_at"
            ))?;
            let rows = stmt.query_map([region], device_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn create_officer(&self, o: &Officer, now: DateTime<Utc>) -> Result<(), StoreError> {
        let o = o.clone();
        self.write(move |c| {
            let taken: bool = c
                .query_row("SELECT 1 FROM officers WHERE username = ?1", [&o.username], |_| Ok(true))
                .optional()?
                .unwrap_or(false);
            if taken {
                return Err(StoreError::Taken(format!("username {}", o.username)));
            }
            c.execute(
                "INSERT INTO officers (id, region_id, username, display_name, password_hash, created_at,
                    role, subject, totp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    o.id.to_string(),
                    o.region_id,
                    o.username,
                    o.display_name,
                    o.password_hash,
                    ts(now),
                    o.role.as_str(),
                    o.subject,
                    o.totp
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError> {
        let u = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = ?1"),
                [u],
                officer_row,
            )
            .optional()?)
        })
        .await
    }

    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError> {
        let region = region_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {OFFICER_COLS} FROM officers o WHERE o.region_id = ?1 ORDER BY o.username"
            ))?;
            let rows = stmt.query_map([region], officer_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        s: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (token, s) = (token_hash.to_string(), s.clone());
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [ts(now)])?;
            let added = c.execute(
                "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, region_id,
                    last_seen_at, role, via, renew_at, refresh)
                 SELECT ?1, id, ?3, ?4, region_id, ?3, ?5, ?6, ?7, ?8 FROM officers WHERE id = ?2
                    AND disabled_at IS NULL",
                params![
                    token,
                    s.officer_id.to_string(),
                    ts(now),
                    ts(s.expires_at),
                    s.role.as_str(),
                    s.by.as_str(),
                    s.renew_at.map(ts),
                    s.refresh
                ],
            )?;
            if added != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<crate::store::Session>, StoreError> {
        let token = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {OFFICER_COLS}, s.expires_at, s.last_seen_at, s.role, s.via, s.renew_at,
                        s.refresh, s.created_at FROM sessions s
                     JOIN officers o ON o.id = s.officer_id AND o.region_id = s.region_id
                     WHERE s.token_hash = ?1"
                ),
                params![token],
                |r| {
                    let mut officer = officer_row(r)?;
                    officer.role = officer_role(&r.get::<_, String>(11)?)?;
                    Ok(crate::store::Session {
                        officer,
                        expires_at: parse_ts(&r.get::<_, String>(9)?)?,
                        last_seen_at: parse_ts(&r.get::<_, String>(10)?)?,
                        by: SignedInBy::parse(&r.get::<_, String>(12)?),
                        renew_at: opt_ts(r.get(13)?)?,
                        refresh: r.get(14)?,
                        created_at: parse_ts(&r.get::<_, String>(15)?)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2 AND last_seen_at < ?1",
                params![ts(now), token],
            )?;
            Ok(())
        })
        .await
    }

    async fn change_officer(
        &self,
        username: &str,
        change: &crate::store::OfficerChange,
    ) -> Result<Option<Officer>, StoreError> {
        use crate::store::OfficerChange;
        let (username, change) = (username.to_string(), change.clone());
        self.write(move |c| {
            let Some(o) = c
                .query_row(
                    &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = ?1"),
                    [&username],
                    officer_row,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let id = o.id.to_string();
            match &change {
                OfficerChange::Disable(at) => {
                    c.execute(
                        "UPDATE officers SET disabled_at = ?1 WHERE id = ?2",
                        params![ts(*at), id],
                    )?;
                }
                OfficerChange::Enable => {
                    c.execute(
                        "UPDATE officers SET disabled_at = NULL WHERE id = ?1",
                        [&id],
                    )?;
                }
                OfficerChange::Password(hash) => {
                    c.execute(
                        "UPDATE officers SET password_hash = ?1 WHERE id = ?2",
                        params![hash, id],
                    )?;
                }
                OfficerChange::Role(role) => {
                    c.execute(
                        "UPDATE officers SET role = ?1 WHERE id = ?2",
                        params![role.as_str(), id],
                    )?;
                }
                OfficerChange::Totp(sealed) => {
                    c.execute(
                        "UPDATE officers SET totp = ?1, totp_step = 0 WHERE id = ?2",
                        params![sealed, id],
                    )?;
                }
                OfficerChange::Remove => {}
            }
            if change != OfficerChange::Enable {
                c.execute("DELETE FROM sessions WHERE officer_id = ?1", [&id])?;
            }
            if change == OfficerChange::Remove {
                c.execute("DELETE FROM officers WHERE id = ?1", [&id])?;
            }
            Ok(Some(o))
        })
        .await
    }

    async fn claim_renewal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE sessions SET renew_at = ?3 WHERE token_hash = ?1 AND renew_at <= ?2",
                params![token, ts(now), ts(hold_until)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn renew_session(
        &self,
        token_hash: &str,
        role: OfficerRole,
        renew_at: DateTime<Utc>,
        refresh: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (token, refresh) = (token_hash.to_string(), refresh.map(str::to_string));
        self.write(move |c| {
            let n = c.execute(
                "UPDATE sessions SET role = ?2, renew_at = ?3, refresh = ?4, expires_at = ?5
                 WHERE token_hash = ?1",
                params![token, role.as_str(), ts(renew_at), refresh, ts(expires_at)],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn provider_officer(
        &self,
        region_id: &str,
        subject: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, StoreError> {
        let (region, subject, name) = (
            region_id.to_string(),
            subject.to_string(),
            display_name.to_string(),
        );
        self.write(move |c| {
            let found = |c: &Connection| {
                c.query_row(
                    &format!(
                        "SELECT {OFFICER_COLS} FROM officers o
                         WHERE o.region_id = ?1 AND o.subject = ?2"
                    ),
                    params![region, subject],
                    officer_row,
                )
                .optional()
            };
            if let Some(o) = found(c)? {
                if o.display_name != name {
                    c.execute(
                        "UPDATE officers SET display_name = ?1 WHERE id = ?2",
                        params![name, o.id.to_string()],
                    )?;
                }
                return Ok(Officer {
                    display_name: name,
                    ..o
                });
            }
            c.execute(
                "INSERT INTO officers (id, region_id, username, display_name, password_hash,
                    created_at, role, subject) VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, ?7)",
                params![
                    Uuid::now_v7().to_string(),
                    region,
                    crate::store::provider_username(&region, &subject),
                    name,
                    ts(now),
                    OfficerRole::Reader.as_str(),
                    subject
                ],
            )?;
            found(c)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn use_totp_step(&self, officer_id: Uuid, step: i64) -> Result<bool, StoreError> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE officers SET totp_step = ?2 WHERE id = ?1 AND totp_step < ?2",
                params![officer_id.to_string(), step],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token = token_hash.to_string();
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token])?;
            Ok(())
        })
        .await
    }

    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError> {
        let text = text.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE devices SET instructions = ?2 WHERE id = ?1",
                params![device.to_string(), text],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}
