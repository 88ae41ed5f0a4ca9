//! The device API against the real server on 127.0.0.1:0 with a real SQLite file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::{AlarmReceipt, AlarmStatus, EnrollResponse, ReportReceipt, UploadStatus};
use varn_server::clock::ManualClock;
use varn_server::testkit::device::Device;
use varn_server::testkit::{TestServer, OFFICER_PASSWORD};

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

/// A device enrolled as `name`, to send requests with.
async fn enroll(s: &TestServer, name: &str) -> Device {
    s.device(name).await
}

/// Asserts a problem+json answer with the status, and returns its body.
async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(
        !body["detail"].as_str().unwrap_or("").is_empty(),
        "a detail that says what is wrong"
    );
    body
}

fn alarm_body() -> Value {
    json!({ "triggered_at": Utc::now(), "meeting": "Fullmäktige", "place": "Stadshuset, Nyköping", "message": "" })
}

/// An officer's logged-in client (cookie) for the dashboard API.
async fn officer_client(s: &TestServer, username: &str, region: &str) -> Client {
    s.add_officer(username, &format!("Handläggare {username}"), region)
        .await;
    let c = Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let res = c
        .post(format!("{}/dashboard/api/login", s.url()))
        .json(&json!({ "username": username, "password": OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    c
}

#[tokio::test]
async fn enrollment_gives_a_token_once_and_codes_expire() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = TestServer::start_with(clock.clone()).await;
    let code = s.enrollment_code("Anna Andersson").await;
    // Codes are forgiving about case and dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let res = client()
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({ "code": typed }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let e: EnrollResponse = res.json().await.unwrap();
    assert_eq!(e.name, "Anna Andersson");
    assert_eq!(e.region_id, "sormland");
    assert!(e.token.len() >= 43, "at least 256 bits");
    // The token works.
    let e = Device::new(&s.url(), e);
    let me: Value = e.get("/v1/me").await.json().await.unwrap();
    assert_eq!(me["name"], "Anna Andersson");
    // The same code again is refused.
    let res = client()
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("already been used"));
    // A code older than 24 hours is refused.
    let old = s.enrollment_code("Bertil").await;
    clock.advance(chrono::Duration::hours(25));
    let res = client()
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({ "code": old }))
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("expired"));
    // The server keeps only hashes: the token is not in the database (file or dump), while
    // its hash is, so the bytes looked at are the real data.
    s.running.state.store().devices(None).await.unwrap();
    let bytes = s.stored_bytes();
    let hash = varn_server::auth::hash_secret(&e.token);
    assert!(
        bytes.windows(hash.len()).any(|w| w == hash.as_bytes()),
        "the token's hash is stored"
    );
    assert!(
        !bytes
            .windows(e.token.len())
            .any(|w| w == e.token.as_bytes()),
        "token stored in clear"
    );
    assert!(
        !bytes.windows(9).any(|w| w == code.as_bytes()),
        "code stored in clear"
    );
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_per_address() {
    let s = TestServer::start().await;
    for i in 0..10 {
        let res = client()
            .post(format!("{}/v1/enroll", s.url()))
            .json(&json!({ "code": format!("AAAA-AAA{i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Even a right code is refused now, until the window passes.
    let code = s.enrollment_code("Cecilia").await;
    let res = client()
        .post(format!("{}/v1/enroll", s.url()))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn device_auth_refuses_missing_bad_revoked_and_foreign_access() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let b = enroll(&s, "Bo").await;
    let path = |id: Uuid| paths::alarm(id);
    let url = |id: Uuid| format!("{}{}", s.url(), path(id));
    let id = Uuid::now_v7();

    let res = client()
        .put(url(id))
        .json(&alarm_body())
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("Bearer"));
    let res = client()
        .put(url(id))
        .bearer_auth("not-a-token")
        .json(&alarm_body())
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;

    // A's alarm: B can neither overwrite nor read it.
    let res = a.put(&path(id), &alarm_body()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = b.put(&path(id), &alarm_body()).await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = b.get(&path(id)).await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = b
        .post(
            &paths::alarm_cancel(id),
            &json!({ "cancelled_at": Utc::now(), "reason": "" }),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;

    // Revoking works at once.
    assert!(s
        .store
        .revoke_device(a.device_id, Utc::now(), varn_server::store::Revoker::Region)
        .await
        .unwrap());
    let res = a.get(&path(id)).await;
    let p = problem(res, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("revoked"));
    assert_eq!(p["type"], "urn:varn:problem:revoked");
}

#[tokio::test]
async fn the_same_alarm_twice_is_one_alarm_with_the_same_receipt() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let officer = officer_client(&s, "hanna", "sormland").await;
    let id = Uuid::now_v7();
    let body = alarm_body();
    let first = a.put(&paths::alarm(id), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: AlarmReceipt = first.json().await.unwrap();
    assert_eq!(first.status, AlarmStatus::Open);
    let again = a.put(&paths::alarm(id), &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: AlarmReceipt = again.json().await.unwrap();
    assert_eq!(first, again, "the retry sees the first receipt");
    let list: Vec<Value> = s.officer_json(&officer, "/dashboard/api/alarms").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["who"], "Anna");
    assert_eq!(list[0]["place"], "Stadshuset, Nyköping");
}

#[tokio::test]
async fn acknowledgement_reaches_the_waiting_device_and_the_dashboard_live() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let officer = officer_client(&s, "hanna", "sormland").await;

    // The dashboard's live feed: a snapshot first.
    let mut feed = officer
        .get(format!("{}/dashboard/api/events", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let mut buf = String::new();
    read_event(&mut feed, &mut buf, "snapshot").await;

    let id = Uuid::now_v7();
    let sent = Instant::now();
    let r: AlarmReceipt = a
        .put(&paths::alarm(id), &alarm_body())
        .await
        .json()
        .await
        .unwrap();
    let ev = read_event(&mut feed, &mut buf, "alarm").await;
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "live within a second: {:?}",
        sent.elapsed()
    );
    assert_eq!(ev["id"], id.to_string());
    assert_eq!(ev["status"], "open");

    // The device waits for a change; the officer acknowledges.
    let waiter = {
        let path = paths::alarm_wait(id, r.version, 20);
        let device = a.clone();
        tokio::spawn(async move {
            device
                .get(&path)
                .await
                .json::<AlarmReceipt>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let acked: Value = officer
        .post(format!("{}/dashboard/api/alarms/{id}/ack", s.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(acked["acknowledged_by"], "Handläggare hanna");
    let seen = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("long-poll answered")
        .unwrap();
    assert_eq!(seen.status, AlarmStatus::Acknowledged);
    assert_eq!(seen.acknowledged_by.as_deref(), Some("Handläggare hanna"));
    let ev = read_event(&mut feed, &mut buf, "alarm").await;
    assert_eq!(ev["status"], "acknowledged");

    // A second ack changes nothing; the timeline has each step once, in order.
    officer
        .post(format!("{}/dashboard/api/alarms/{id}/ack", s.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let tl: Vec<Value> = s
        .officer_json(&officer, &format!("/dashboard/api/alarms/{id}/timeline"))
        .await;
    let kinds: Vec<&str> = tl.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["triggered", "received", "acknowledged"]);
}

/// Reads server-sent events until one named `name` arrives; returns its JSON data.
async fn read_event(res: &mut reqwest::Response, buf: &mut String, name: &str) -> Value {
    varn_server::testkit::read_event(res, buf, name, Duration::from_secs(5))
        .await
        .expect("feed ended")
}

#[tokio::test]
async fn cancel_is_idempotent_and_shows_on_the_dashboard() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let officer = officer_client(&s, "hanna", "sormland").await;
    let id = Uuid::now_v7();
    a.put(&paths::alarm(id), &alarm_body()).await;
    for _ in 0..2 {
        let r: AlarmReceipt = a
            .post(
                &format!("/v1/alarms/{id}/cancel"),
                &json!({ "cancelled_at": Utc::now(), "reason": "Råkade trycka" }),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r.status, AlarmStatus::Cancelled);
        assert_eq!(r.version, 2);
    }
    let list: Vec<Value> = s.officer_json(&officer, "/dashboard/api/alarms").await;
    assert_eq!(list[0]["status"], "cancelled");
    assert_eq!(list[0]["cancel_reason"], "Råkade trycka");
}

fn report(revision: u32, during: &str) -> Value {
    json!({ "revision": revision, "report": { "kind": "phone", "during": during, "place": "Hemma" } })
}

#[tokio::test]
async fn report_revisions_never_go_backwards_and_none_is_lost() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let officer = officer_client(&s, "hanna", "sormland").await;
    let id = Uuid::now_v7();
    let put = |body: Value| {
        let device = a.clone();
        async move { device.put(&paths::report(id), &body).await }
    };
    let r = put(report(1, "Ett hotfullt samtal")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Same revision again: idempotent.
    let r = put(report(1, "Ett hotfullt samtal")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r: ReportReceipt = put(report(3, "Ett hotfullt samtal, sedan ett till"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.current_revision, 3);
    // A late revision 2 is kept but does not replace 3.
    let r: ReportReceipt = put(report(2, "mellanversion")).await.json().await.unwrap();
    assert_eq!((r.revision, r.current_revision), (2, 3));
    // Revision 3 with other content is a conflict.
    let p = problem(put(report(3, "annat")).await, StatusCode::CONFLICT).await;
    assert_eq!(p["current_revision"], 3);
    let shown: Value = s
        .officer_json(&officer, &format!("/dashboard/api/reports/{id}"))
        .await;
    assert_eq!(shown["revision"], 3);
    assert_eq!(
        shown["body"]["during"],
        "Ett hotfullt samtal, sedan ett till"
    );
    let receipt: ReportReceipt = a
        .get(&format!("/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(receipt.revision, 3);
    let list: Vec<Value> = s.officer_json(&officer, "/dashboard/api/reports").await;
    assert_eq!(list.len(), 1, "one report, however many revisions");
}

#[tokio::test]
async fn uploads_resume_after_a_broken_connection_and_are_checked_by_sha256() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let officer = officer_client(&s, "hanna", "sormland").await;
    let report_id = Uuid::now_v7();
    a.put(&format!("/v1/reports/{report_id}"), &report(1, "se bild"))
        .await;
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let sha = hex::encode(Sha256::digest(&data));
    let att = Uuid::now_v7();
    let meta = json!({ "filename": "skärmdump.png", "content_type": "image/png", "size": data.len(), "sha256": sha });
    let st: UploadStatus = a
        .put(&format!("/v1/reports/{report_id}/attachments/{att}"), &meta)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((st.offset, st.complete), (0, false));
    let upload = format!("/v1/attachments/{att}");
    let patch = |offset: usize, bytes: Vec<u8>| a.patch_chunk(&upload, offset as u64, bytes);
    let first: UploadStatus = patch(0, data[..1_000_000].to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first.offset, 1_000_000);

    // The connection breaks in the middle of the second chunk.
    let mut tcp = tokio::net::TcpStream::connect(s.running.addr)
        .await
        .unwrap();
    let head = format!(
        "PATCH /v1/attachments/{att} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nUpload-Offset: 1000000\r\nContent-Length: 1000000\r\n\r\n",
        s.running.addr, a.token
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&data[1_000_000..1_400_000]).await.unwrap();
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Nothing of the broken chunk counts; resume from the server's offset.
    let st: UploadStatus = a
        .get(&format!("/v1/attachments/{att}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st.offset, 1_000_000);
    // A chunk at the wrong offset says where to resume.
    let p = problem(
        patch(1_500_000, data[1_500_000..1_600_000].to_vec()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["offset"], 1_000_000);
    let st: UploadStatus = patch(1_000_000, data[1_000_000..2_000_000].to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(st.offset, 2_000_000);
    let st: UploadStatus = patch(2_000_000, data[2_000_000..].to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert!(st.complete);
    // The last chunk again (its answer was lost): still complete, nothing doubled.
    let st: UploadStatus = patch(2_000_000, data[2_000_000..].to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert!(st.complete);

    let bytes = officer
        .get(format!("{}/dashboard/api/attachments/{att}", s.url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sha, "byte-identical");
}

/// The running SHA-256 of an upload is kept with it; an upload begun before that (no state
/// stored) or whose state is damaged has it rebuilt from its chunks, and completes with the
/// right checksum either way.
#[tokio::test]
async fn an_upload_without_a_stored_hash_state_still_completes() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna Andersson").await;
    for damage in [
        "UPDATE attachments SET hash_state = NULL",
        "UPDATE attachments SET hash_state = x'00010203'",
    ] {
        let damage = if s.database.sqlite_path().is_some() {
            damage.to_string()
        } else {
            damage.replace("x'00010203'", "'\\x00010203'::bytea")
        };
        let report_id = Uuid::now_v7();
        let res = a
            .put(&format!("/v1/reports/{report_id}"), &report(1, "bilaga"))
            .await;
        assert!(res.status().is_success());
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let att = Uuid::now_v7();
        let meta = json!({ "filename": "bild.png", "content_type": "image/png", "size": data.len(),
            "sha256": hex::encode(Sha256::digest(&data)) });
        let res = a
            .put(&format!("/v1/reports/{report_id}/attachments/{att}"), &meta)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let upload = format!("/v1/attachments/{att}");
        let patch = |offset: usize, bytes: Vec<u8>| a.patch_chunk(&upload, offset as u64, bytes);
        let st: UploadStatus = patch(0, data[..1_000_000].to_vec())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(st.offset, 1_000_000);
        s.execute_sql(&damage).await;
        let st: UploadStatus = patch(1_000_000, data[1_000_000..2_000_000].to_vec())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((st.offset, st.complete), (2_000_000, false), "{damage}");
        let st: UploadStatus = patch(2_000_000, data[2_000_000..].to_vec())
            .await
            .json()
            .await
            .unwrap();
        assert!(st.complete, "{damage}: the checksum matched");
        assert_eq!(s.attachment_bytes("sormland", att).await, data);
    }
}

#[tokio::test]
async fn a_checksum_mismatch_resets_the_upload() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let report_id = Uuid::now_v7();
    a.put(&format!("/v1/reports/{report_id}"), &report(1, "x"))
        .await;
    let att = Uuid::now_v7();
    let meta = json!({ "filename": "a.txt", "content_type": "text/plain", "size": 5, "sha256": hex::encode(Sha256::digest(b"hello")) });
    a.put(&format!("/v1/reports/{report_id}/attachments/{att}"), &meta)
        .await;
    let res = a
        .patch_chunk(&format!("/v1/attachments/{att}"), 0, b"HELLO".to_vec())
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["type"], "urn:varn:problem:checksum-mismatch");
    let st: UploadStatus = a
        .get(&format!("/v1/attachments/{att}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (st.offset, st.complete),
        (0, false),
        "reset, ready for a fresh upload"
    );
    // Announcing the same id with other metadata is a conflict.
    let other = json!({ "filename": "b.txt", "content_type": "text/plain", "size": 5, "sha256": hex::encode(Sha256::digest(b"hello")) });
    let res = a
        .put(
            &format!("/v1/reports/{report_id}/attachments/{att}"),
            &other,
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn bad_input_of_every_kind_gets_a_clear_problem() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let base = s.url();
    let c = client();
    let id = Uuid::now_v7();

    // Wrong JSON.
    let res = a
        .request(Method::PUT, &paths::alarm(id))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
    // Wrong types.
    let res = a
        .put(&paths::alarm(id), &json!({ "triggered_at": 12 }))
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        p["detail"].as_str().unwrap().contains("triggered_at"),
        "{p}"
    );
    // Unknown field.
    let res = a
        .put(
            &paths::alarm(id),
            &json!({ "triggered_at": Utc::now(), "colour": "red" }),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Control characters.
    let res = a
        .put(
            &paths::alarm(id),
            &json!({ "triggered_at": Utc::now(), "place": "a\u{0}b" }),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p["detail"].as_str().unwrap().contains("place"));
    // Not JSON at all.
    let res = a
        .request(Method::PUT, &paths::alarm(id))
        .body("x")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // Too large.
    let big = json!({ "triggered_at": Utc::now(), "message": "x".repeat(2 * 1024 * 1024) });
    let res = a.put(&paths::alarm(id), &big).await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    // A report may be larger than any other body: a valid one of 1.5 MB (five full sections of
    // three-byte characters) is taken, and only one past the report limit is too large.
    let full = "€".repeat(varn_core::wire::MAX_REPORT_TEXT_CHARS);
    let report_body = json!({ "revision": 1, "report": {
        "involved": full, "before": full, "during": full, "actions": full, "witnesses": full } });
    assert!(serde_json::to_vec(&report_body).unwrap().len() > varn_server::MAX_JSON_BYTES);
    let res = a.put(&paths::report(Uuid::now_v7()), &report_body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    let res = a
        .request(Method::PUT, &paths::report(Uuid::now_v7()))
        .json(&json!({ "revision": 1, "report": {
            "during": "x".repeat(varn_server::MAX_REPORT_BODY_BYTES) } }))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Not a UUID.
    let res = a.put("/v1/alarms/not-a-uuid", &alarm_body()).await;
    let p = problem(res, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("UUID"));
    // A query that is not a number, or waits longer than the documented 30 s.
    for query in [
        "wait=abc",
        "after_version=abc",
        "after_version=-1",
        "after_version=1&wait=31",
    ] {
        let res = a
            .get(&format!("/v1/alarms/{}?{query}", Uuid::now_v7()))
            .await;
        let p = problem(res, StatusCode::BAD_REQUEST).await;
        assert!(
            p["detail"].as_str().unwrap().contains("wait")
                || p["detail"].as_str().unwrap().contains("after_version"),
            "{query}: {p}"
        );
    }
    // Unknown id.
    let res = a.get(&paths::alarm(Uuid::now_v7())).await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = a.get(&paths::upload(Uuid::now_v7())).await;
    problem(res, StatusCode::NOT_FOUND).await;
    // An attachment for a report that does not exist.
    let meta = json!({ "filename": "a", "content_type": "text/plain", "size": 1, "sha256": "0".repeat(64) });
    let res = a
        .put(
            &paths::report_attachment(Uuid::now_v7(), Uuid::now_v7()),
            &meta,
        )
        .await;
    problem(res, StatusCode::NOT_FOUND).await;
    // Bad checksum format.
    let bad = json!({ "filename": "a", "content_type": "text/plain", "size": 1, "sha256": "xyz" });
    let res = a
        .put(
            &paths::report_attachment(Uuid::now_v7(), Uuid::now_v7()),
            &bad,
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // A chunk without its offset.
    let res = a
        .request(Method::PATCH, &paths::upload(Uuid::now_v7()))
        .header("content-type", "application/octet-stream")
        .body(vec![1u8])
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("Upload-Offset"));
    // Revision 0.
    let res = a
        .put(
            &format!("/v1/reports/{id}"),
            &json!({ "revision": 0, "report": {} }),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Unknown endpoint and wrong method.
    let res = c.get(format!("{base}/v2/nothing")).send().await.unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    let res = a.delete(&paths::alarm(id)).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // After all that, nothing was stored.
    let res = a.get(&paths::alarm(id)).await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_profile_is_served_with_an_etag() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let res = a.get("/v1/profile").await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // The profile as signed (here the embedded one, served unsigned), with a strong ETag.
    let signed = varn_core::signing::SignedProfile::parse(&res.text().await.unwrap()).unwrap();
    assert_eq!(signed.profile().unwrap().region.id, "sormland");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let res = a
        .request(Method::GET, "/v1/profile")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = a
        .request(Method::GET, "/v1/profile")
        .header("if-none-match", "\"old\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn dashboard_needs_a_login_and_shows_only_its_region() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let id = Uuid::now_v7();
    a.put(&paths::alarm(id), &alarm_body()).await;
    let res = client()
        .get(format!("{}/dashboard/api/alarms", s.url()))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
    let page = client()
        .get(format!("{}/dashboard", s.url()))
        .send()
        .await
        .unwrap();
    let csp = page
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"));
    let other = officer_client(&s, "olle", "jamtland").await;
    let list: Vec<Value> = s.officer_json(&other, "/dashboard/api/alarms").await;
    assert!(list.is_empty());
    let res = other
        .post(format!("{}/dashboard/api/alarms/{id}/ack", s.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    // A cross-site request is refused even with the cookie.
    let res = other
        .post(format!("{}/dashboard/api/alarms/{id}/ack", s.url()))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn wrong_logins_are_problems_and_slow_the_username_down() {
    let s = TestServer::start().await;
    s.add_officer("hanna", "Hanna", "sormland").await;
    let wrong = || async {
        client()
            .post(format!("{}/dashboard/api/login", s.url()))
            .json(&json!({ "username": "hanna", "password": "fel lösenord" }))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..varn_server::ratelimit::FREE_USERNAME_FAILURES {
        problem(wrong().await, StatusCode::UNAUTHORIZED).await;
    }
    // Then the username is slowed: told when to come back, as problem+json.
    let res = wrong().await;
    assert_eq!(res.headers()["retry-after"], "1");
    let body = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        body["detail"].as_str().unwrap().contains("username"),
        "{body}"
    );
    // The right password, after the pause, signs in.
    let (status, took) =
        varn_server::testkit::attack::officer_login(&client(), &s.url(), "hanna").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let s = TestServer::start().await;
    let officer = officer_client(&s, "hanna", "sormland").await;
    assert_eq!(
        officer
            .get(format!("{}/dashboard/api/me", s.url()))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    officer
        .post(format!("{}/dashboard/api/logout", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        officer
            .get(format!("{}/dashboard/api/me", s.url()))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The committed description is the one the code generates (and `/openapi.json` serves):
/// a change to a route, a handler's `#[utoipa::path]` or a wire type shows in review.
#[test]
fn the_committed_document_is_the_generated_one() {
    let committed = include_str!("../openapi.json");
    let generated = varn_server::contract::document();
    if committed != generated {
        let (n, (was, is)) = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((
                committed.lines().count().min(generated.lines().count()),
                ("(end)", "(end)"),
            ));
        panic!(
            "crates/varn-server/openapi.json is not what the code generates (first difference \
             on line {}: committed {was:?}, generated {is:?}); write it again with \
             `scripts/openapi`",
            n + 1
        );
    }
}

/// Every operation's security requirement names a scheme the document defines (the
/// operations name them as literals).
#[test]
fn every_security_requirement_names_a_scheme() {
    let doc: Value = serde_json::from_str(varn_server::contract::document()).unwrap();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut named = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for requirement in op["security"].as_array().into_iter().flatten() {
                for name in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(name), "{method} {path}: {name}");
                    named += 1;
                }
            }
        }
    }
    assert!(
        named >= 17,
        "the device routes and the statistics name their scheme"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// The committed description, as a reviewer reads it.
fn committed_document() -> Value {
    serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON")
}

/// The names a schema of the committed description lists (its `enum`).
fn documented_names(schema: &Value) -> Vec<String> {
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("an enum: {schema}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The description's device routes are exactly the core's list, which the server routes by
/// and the app builds its requests from (the updater's bundle path besides).
#[test]
fn the_documented_device_routes_are_the_cores() {
    let doc = committed_document();
    let documented: std::collections::BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|p| p.starts_with("/v1/"))
        .filter(|p| !p.starts_with(varn_core::wire::BUNDLE_PATH_PREFIX))
        .collect();
    let core: std::collections::BTreeSet<&str> = varn_core::paths::ALL.into_iter().collect();
    assert_eq!(documented, core);
}

/// The description names every problem type the server answers with, and no other.
#[test]
fn the_documented_problem_types_are_the_servers() {
    let doc = committed_document();
    let written: Vec<String> = varn_core::wire::ProblemType::ALL
        .iter()
        .map(|k| k.urn())
        .collect();
    assert_eq!(
        documented_names(&doc["components"]["schemas"]["Problem"]["properties"]["type"]),
        written
    );
}

/// The description names every timeline kind the server writes, and no other.
#[test]
fn the_documented_timeline_kinds_are_the_servers() {
    let doc = committed_document();
    let written: Vec<&str> = varn_core::wire::EventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        documented_names(&doc["components"]["schemas"]["TimelineEntry"]["properties"]["kind"]),
        written
    );
}

#[tokio::test]
async fn every_documented_route_exists() {
    let s = TestServer::start().await;
    let doc: Value = client()
        .get(format!("{}/openapi.json", s.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", &Uuid::now_v7().to_string())
            .replace("{report}", &Uuid::now_v7().to_string());
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = client()
                .request(m, format!("{}{concrete}", s.url()))
                .send()
                .await
                .unwrap();
            assert_ne!(
                res.status(),
                StatusCode::NOT_FOUND,
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                res.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    let health: Value = client()
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn shutdown_ends_long_polls_with_an_answer() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let id = Uuid::now_v7();
    a.put(&paths::alarm(id), &alarm_body()).await;
    let url = format!("{}/v1/alarms/{id}?after_version=1&wait=30", s.url());
    let token = a.token.clone();
    let waiting = tokio::spawn(async move {
        client()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    s.stop().await;
    let status = waiting
        .await
        .unwrap()
        .expect("the request in flight got an answer");
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown did not wait for the 30 s poll"
    );
}

#[tokio::test]
async fn data_survives_a_restart() {
    let s = TestServer::start().await;
    let a = enroll(&s, "Anna").await;
    let id = Uuid::now_v7();
    a.put(&paths::alarm(id), &alarm_body()).await;
    let db = s.database.clone();
    let dir = s.stop().await;
    let s = TestServer::start_at(db, Arc::new(varn_server::clock::SystemClock), None).await;
    // The same device, at the restarted server's new address.
    let a = Device::new(&s.url(), a.enrolled);
    let r: AlarmReceipt = a.get(&paths::alarm(id)).await.json().await.unwrap();
    assert_eq!(r.id, id);
    drop(dir);
}

#[tokio::test]
async fn raw_http_garbage_does_not_hurt_the_server() {
    let s = TestServer::start().await;
    for junk in [
        &b"GARBAGE\r\n\r\n"[..],
        b"PUT /v1/alarms/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"\x00\x01\x02\x03",
    ] {
        let mut tcp = tokio::net::TcpStream::connect(s.running.addr)
            .await
            .unwrap();
        tcp.write_all(junk).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut out)).await;
    }
    let res = client()
        .get(format!("{}/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
