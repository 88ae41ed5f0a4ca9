//! What a test does as a device or an officer would (raise, cancel and read an alarm, upload an
//! attachment, log in, read the dashboard's answers), and what it reads or runs in the database.

use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::EnrollResponse;

use super::{http_client, TestServer, OFFICER_PASSWORD};
use crate::store::Database;

impl TestServer {
    /// Raises an alarm over HTTP with `body` (an `AlarmRequest` as JSON); returns its id.
    pub async fn raise(&self, device: &EnrollResponse, body: serde_json::Value) -> Uuid {
        let id = Uuid::now_v7();
        let res = self.as_device(device).put(&paths::alarm(id), &body).await;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED, "raise");
        id
    }

    /// Uploads `data` as an attachment of the device's report over HTTP, announced and sent
    /// in one chunk as the app does; returns the attachment's id.
    pub async fn upload_attachment(
        &self,
        device: &EnrollResponse,
        report: Uuid,
        filename: &str,
        data: &[u8],
    ) -> Uuid {
        use sha2::{Digest, Sha256};
        let id = Uuid::now_v7();
        let meta = serde_json::json!({
            "filename": filename, "content_type": "image/png", "size": data.len(),
            "sha256": hex::encode(Sha256::digest(data)),
        });
        let device = self.as_device(device);
        let res = device
            .put(&paths::report_attachment(report, id), &meta)
            .await;
        assert!(res.status().is_success(), "announce: {}", res.status());
        let res = device
            .patch_chunk(&paths::upload(id), 0, data.to_vec())
            .await;
        assert!(res.status().is_success(), "upload: {}", res.status());
        id
    }

    /// The device cancels its alarm ("Falsklarm"; `duress`: with the duress PIN), as the
    /// app does; the receipt.
    pub async fn cancel(
        &self,
        device: &EnrollResponse,
        id: Uuid,
        duress: bool,
    ) -> varn_core::wire::AlarmReceipt {
        let body = serde_json::json!({
            "cancelled_at": chrono::Utc::now(), "reason": "Falsklarm", "duress": duress,
        });
        let res = self
            .as_device(device)
            .post(&paths::alarm_cancel(id), &body)
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "cancel");
        res.json().await.expect("a receipt")
    }

    /// The device's receipt for its alarm (`GET /v1/alarms/{id}`).
    pub async fn receipt(
        &self,
        device: &EnrollResponse,
        id: Uuid,
    ) -> varn_core::wire::AlarmReceipt {
        let res = self.as_device(device).get(&paths::alarm(id)).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "receipt");
        res.json().await.expect("a receipt")
    }

    /// An alarm as the officer reads it whole on the dashboard (with its conversation and
    /// instructions; recorded in the audit log).
    pub async fn dashboard_alarm(&self, officer: &reqwest::Client, id: Uuid) -> serde_json::Value {
        self.officer_json(officer, &format!("/dashboard/api/alarms/{id}"))
            .await
    }

    /// What `GET path` (from the server's root) answers an officer's client: 200 OK, and JSON.
    pub async fn officer_json<T: serde::de::DeserializeOwned>(
        &self,
        officer: &reqwest::Client,
        path: &str,
    ) -> T {
        let res = officer
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .expect("the dashboard request reached the server");
        let status = res.status();
        let body = res.text().await.expect("an answer");
        assert_eq!(status, reqwest::StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// An officer of `region`, created and logged in to the dashboard: the client carries
    /// the session cookie.
    pub async fn officer_client(
        &self,
        username: &str,
        display_name: &str,
        region: &str,
    ) -> reqwest::Client {
        self.add_officer(username, display_name, region).await;
        self.login(username).await
    }

    /// A new dashboard session for an officer who already exists (after a test's clock has
    /// moved past the idle time, as a person logging in again).
    pub async fn login(&self, username: &str) -> reqwest::Client {
        let c = http_client();
        let res = c
            .post(format!("{}/dashboard/api/login", self.url()))
            .json(&serde_json::json!({ "username": username, "password": OFFICER_PASSWORD }))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), reqwest::StatusCode::OK, "login");
        c
    }

    /// A complete attachment's bytes, read back chunk by chunk as the dashboard serves them.
    pub async fn attachment_bytes(&self, region: &str, id: Uuid) -> Vec<u8> {
        self.store
            .attachment(region, id)
            .await
            .expect("a complete attachment");
        let mut bytes = Vec::new();
        while let Some((_, data)) = self
            .store
            .attachment_chunk(region, id, bytes.len() as u64)
            .await
            .expect("read a chunk")
        {
            bytes.extend_from_slice(&data);
        }
        bytes
    }

    /// Runs SQL on the server's database behind its back (as a database from an earlier
    /// version, or a damaged row, would be): for tests of what the server does with it.
    pub async fn execute_sql(&self, sql: &str) {
        match &self.database {
            Database::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open the SQLite file");
                c.execute_batch(sql).expect("run SQL");
            }
            Database::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect to PostgreSQL");
                tokio::spawn(conn);
                client.batch_execute(sql).await.expect("run SQL");
            }
        }
    }
}
