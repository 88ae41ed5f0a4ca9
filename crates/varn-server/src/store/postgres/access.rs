//! Devices, enrollment, officers and their sessions.

use super::*;
use crate::store::{NewSession, OfficerRole, SignedInBy};

pub(super) const DEVICE_COLS: &str =
    "id, region_id, name, role, created_at, revoked_at, revoked_by";

pub(super) fn device_row(r: &Row) -> Result<Device, StoreError> {
    Ok(Device {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        name: r.try_get(2)?,
        role: role(r.try_get(3)?)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
        revoked_by: crate::store::Revoker::parse(r.try_get::<_, Option<String>>(6)?.as_deref()),
    })
}

pub(super) const OFFICER_COLS: &str = "o.id, o.region_id, o.username, o.display_name, \
    o.password_hash, o.disabled_at, o.role, o.subject, o.totp";

pub(super) fn officer_row(r: &Row) -> Result<Officer, StoreError> {
    Ok(Officer {
        id: r.try_get(0)?,
        region_id: r.try_get(1)?,
        username: r.try_get(2)?,
        display_name: r.try_get(3)?,
        password_hash: r.try_get(4)?,
        disabled_at: r.try_get(5)?,
        role: officer_role(r.try_get(6)?)?,
        subject: r.try_get(7)?,
        totp: r.try_get(8)?,
    })
}

fn officer_role(s: &str) -> Result<OfficerRole, StoreError> {
    OfficerRole::parse(s)
        .ok_or_else(|| StoreError::Backend(format!("stored officer role {s} is unknown")))
}

#[async_trait]
impl crate::store::AccessStore for PgStore {
    async fn create_enrollment(
        &self,
        region_id: &str,
        name: &str,
        role: Role,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "INSERT INTO enrollment_codes (code_hash, region_id, name, role, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&code_hash, &region_id, &name, &role.as_str(), &now, &expires_at],
        )
        .await?;
        Ok(())
    }

    async fn enroll(
        &self,
        code_hashes: &[String],
        token_hash: &str,
        device_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Device, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(r) = tx
            .opt(
                "SELECT region_id, name, role, expires_at, used_at, code_hash FROM enrollment_codes
                 WHERE code_hash = ANY($1) FOR UPDATE",
                &[&code_hashes],
            )
            .await?
        else {
            return Err(StoreError::CodeUnknown);
        };
        let code_hash: String = r.try_get(5)?;
        let (region, name, role_text): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let expires: DateTime<Utc> = r.try_get(3)?;
        if r.try_get::<_, Option<DateTime<Utc>>>(4)?.is_some() {
            return Err(StoreError::CodeUsed);
        }
        if expires <= now {
            return Err(StoreError::CodeExpired);
        }
        tx.run(
            "INSERT INTO devices (id, region_id, name, role, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&device_id, &region, &name, &role_text, &token_hash, &now],
        )
        .await?;
        tx.run(
            "UPDATE enrollment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3",
            &[&now, &device_id, &code_hash],
        )
        .await?;
        tx.commit().await?;
        Ok(Device {
            id: device_id,
            region_id: region,
            name,
            role: role(&role_text)?,
            created_at: now,
            revoked_at: None,
            revoked_by: None,
        })
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!("SELECT {DEVICE_COLS} FROM devices WHERE token_hash = $1"),
            &[&token_hash],
        )
        .await?
        .as_ref()
        .map(device_row)
        .transpose()
    }

    async fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        by: crate::store::Revoker,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        Ok(c.run(
            "UPDATE devices SET revoked_at = $1, revoked_by = $3
             WHERE id = $2 AND revoked_at IS NULL",
            &[&now, &id, &by.as_str()],
        )
        .await?
            > 0)
    }

    async fn devices(&self, region_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE $1::TEXT IS NULL OR region_id = $1
                 ORDER BY created_at"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(device_row)
        .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn create_officer(&self, o: &Officer, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c = self.conn().await?;
        match c
            .run(
                "INSERT INTO officers (id, region_id, username, display_name, password_hash,
                    created_at, role, subject, totp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &o.id,
                    &o.region_id,
                    &o.username,
                    &o.display_name,
                    &o.password_hash,
                    &now,
                    &o.role.as_str(),
                    &o.subject,
                    &o.totp,
                ],
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if unique_violation(&e) => {
                Err(StoreError::Taken(format!("username {}", o.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = $1"),
            &[&username],
        )
        .await?
        .as_ref()
        .map(officer_row)
        .transpose()
    }

    async fn officers(&self, region_id: &str) -> Result<Vec<Officer>, StoreError> {
        let c = self.conn().await?;
        c.all(
            &format!(
                "SELECT {OFFICER_COLS} FROM officers o WHERE o.region_id = $1 ORDER BY o.username"
            ),
            &[&region_id],
        )
        .await?
        .iter()
        .map(officer_row)
        .collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        s: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        tx.run("DELETE FROM sessions WHERE expires_at <= $1", &[&now])
            .await?;
        let added = tx
            .run(
                "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, region_id,
                    last_seen_at, role, via, renew_at, refresh)
                 SELECT $1, id, $3, $4, region_id, $3, $5, $6, $7, $8 FROM officers WHERE id = $2
                    AND disabled_at IS NULL",
                &[
                    &token_hash,
                    &s.officer_id,
                    &now,
                    &s.expires_at,
                    &s.role.as_str(),
                    &s.by.as_str(),
                    &s.renew_at,
                    &s.refresh,
                ],
            )
            .await?;
        if added != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<crate::store::Session>, StoreError> {
        let c = self.conn().await?;
        c.opt(
            &format!(
                "SELECT {OFFICER_COLS}, s.expires_at, s.last_seen_at, s.role, s.via, s.renew_at,
                    s.refresh, s.created_at FROM sessions s
                 JOIN officers o ON o.id = s.officer_id AND o.region_id = s.region_id
                 WHERE s.token_hash = $1"
            ),
            &[&token_hash],
        )
        .await?
        .as_ref()
        .map(|r| {
            let mut officer = officer_row(r)?;
            officer.role = officer_role(r.try_get(11)?)?;
            Ok(crate::store::Session {
                officer,
                expires_at: r.try_get(9)?,
                last_seen_at: r.try_get(10)?,
                by: SignedInBy::parse(r.try_get(12)?),
                renew_at: r.try_get(13)?,
                refresh: r.try_get(14)?,
                created_at: r.try_get(15)?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1",
            &[&now, &token_hash],
        )
        .await?;
        Ok(())
    }

    async fn change_officer(
        &self,
        username: &str,
        change: &crate::store::OfficerChange,
    ) -> Result<Option<Officer>, StoreError> {
        use crate::store::OfficerChange;
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let Some(o) = tx
            .opt(
                &format!("SELECT {OFFICER_COLS} FROM officers o WHERE o.username = $1 FOR UPDATE"),
                &[&username],
            )
            .await?
            .as_ref()
            .map(officer_row)
            .transpose()?
        else {
            return Ok(None);
        };
        match change {
            OfficerChange::Disable(at) => {
                tx.run(
                    "UPDATE officers SET disabled_at = $1 WHERE id = $2",
                    &[at, &o.id],
                )
                .await?;
            }
            OfficerChange::Enable => {
                tx.run(
                    "UPDATE officers SET disabled_at = NULL WHERE id = $1",
                    &[&o.id],
                )
                .await?;
            }
            OfficerChange::Password(hash) => {
                tx.run(
                    "UPDATE officers SET password_hash = $1 WHERE id = $2",
                    &[hash, &o.id],
                )
                .await?;
            }
            OfficerChange::Role(role) => {
                tx.run(
                    "UPDATE officers SET role = $1 WHERE id = $2",
                    &[&role.as_str(), &o.id],
                )
                .await?;
            }
            OfficerChange::Totp(sealed) => {
                tx.run(
                    "UPDATE officers SET totp = $1, totp_step = 0 WHERE id = $2",
                    &[sealed, &o.id],
                )
                .await?;
            }
            OfficerChange::Remove => {}
        }
        if *change != OfficerChange::Enable {
            tx.run("DELETE FROM sessions WHERE officer_id = $1", &[&o.id])
                .await?;
        }
        if *change == OfficerChange::Remove {
            tx.run("DELETE FROM officers WHERE id = $1", &[&o.id])
                .await?;
        }
        tx.commit().await?;
        Ok(Some(o))
    }

    async fn claim_renewal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE sessions SET renew_at = $3 WHERE token_hash = $1 AND renew_at <= $2",
                &[&token_hash, &now, &hold_until],
            )
            .await?;
        Ok(n == 1)
    }

    async fn renew_session(
        &self,
        token_hash: &str,
        role: OfficerRole,
        renew_at: DateTime<Utc>,
        refresh: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE sessions SET role = $2, renew_at = $3, refresh = $4, expires_at = $5
                 WHERE token_hash = $1",
                &[
                    &token_hash,
                    &role.as_str(),
                    &renew_at,
                    &refresh,
                    &expires_at,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn provider_officer(
        &self,
        region_id: &str,
        subject: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Officer, StoreError> {
        let c = self.conn().await?;
        // One statement, so two first sign-ins at once make one officer.
        c.run(
            "INSERT INTO officers (id, region_id, username, display_name, password_hash,
                created_at, role, subject) VALUES ($1, $2, $3, $4, '', $5, $6, $7)
             ON CONFLICT (region_id, subject) WHERE subject IS NOT NULL
             DO UPDATE SET display_name = EXCLUDED.display_name",
            &[
                &Uuid::now_v7(),
                &region_id,
                &crate::store::provider_username(region_id, subject),
                &display_name,
                &now,
                &OfficerRole::Reader.as_str(),
                &subject,
            ],
        )
        .await?;
        c.opt(
            &format!(
                "SELECT {OFFICER_COLS} FROM officers o WHERE o.region_id = $1 AND o.subject = $2"
            ),
            &[&region_id, &subject],
        )
        .await?
        .as_ref()
        .map(officer_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    async fn use_totp_step(&self, officer_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE officers SET totp_step = $2 WHERE id = $1 AND totp_step < $2",
                &[&officer_id, &step],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        c.run("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
            .await?;
        Ok(())
    }

    async fn set_instructions(&self, device: Uuid, text: &str) -> Result<(), StoreError> {
        let c = self.conn().await?;
        let n = c
            .run(
                "UPDATE devices SET instructions = $2 WHERE id = $1",
                &[&device, &text],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
