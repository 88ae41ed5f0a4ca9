//! One deployment, two regions (Sörmland and a second profile): a device or an officer of
//! one region can neither read nor write anything of the other. Runs on SQLite and, with
//! `VARN_TEST_DATABASE=postgres`, on PostgreSQL.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use varn_core::profile::Profile;
use varn_server::clock::SystemClock;
use varn_server::testkit::{http_client as client, signed_for_tests, TestServer};

async fn two_region_server() -> TestServer {
    let sormland = Profile::embedded_default().unwrap();
    let mut other = sormland.clone();
    other.region.id = "uppsala".into();
    other.region.name = "Region Uppsala".into();
    TestServer::start_regions(
        vec![signed_for_tests(&sormland), signed_for_tests(&other)],
        Arc::new(SystemClock),
    )
    .await
}

async fn status(req: reqwest::RequestBuilder) -> StatusCode {
    req.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_cannot_read_or_write_anything_of_another() {
    let s = two_region_server().await;
    let x = s.enroll_in("sormland", "Xenia i Sörmland").await;
    let y = s.enroll_in("uppsala", "Yngve i Uppsala").await;
    let u = s.url();
    let now = chrono::Utc::now();

    // Y's alarm, check-in, report and attachment.
    let alarm = s
        .raise(&y, json!({ "triggered_at": now, "place": "Uppsala slott" }))
        .await;
    let checkin = Uuid::now_v7();
    let body =
        json!({ "started_at": now, "deadline": now + chrono::Duration::hours(1), "revision": 1 });
    assert!(status(
        client()
            .put(format!("{u}/v1/checkins/{checkin}"))
            .bearer_auth(&y.token)
            .json(&body)
    )
    .await
    .is_success());
    let report = Uuid::now_v7();
    let rep =
        json!({ "revision": 1, "report": { "kind": "phone", "during": "hot", "place": "Hemma" } });
    assert!(status(
        client()
            .put(format!("{u}/v1/reports/{report}"))
            .bearer_auth(&y.token)
            .json(&rep)
    )
    .await
    .is_success());
    let att = Uuid::now_v7();
    let data = b"bild".to_vec();
    let meta = json!({ "filename": "a.png", "content_type": "image/png", "size": data.len(), "sha256": hex::encode(Sha256::digest(&data)) });
    assert!(status(
        client()
            .put(format!("{u}/v1/reports/{report}/attachments/{att}"))
            .bearer_auth(&y.token)
            .json(&meta)
    )
    .await
    .is_success());
    let res = client()
        .patch(format!("{u}/v1/attachments/{att}"))
        .bearer_auth(&y.token)
        .header("upload-offset", "0")
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // X's device: nothing of Y to read…
    for path in [
        format!("/v1/alarms/{alarm}"),
        format!("/v1/alarms/{alarm}/timeline"),
        format!("/v1/checkins/{checkin}"),
        format!("/v1/reports/{report}"),
        format!("/v1/attachments/{att}"),
    ] {
        let st = status(client().get(format!("{u}{path}")).bearer_auth(&x.token)).await;
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
            "{path}: {st}"
        );
    }
    // …and nothing to write.
    let writes = [
        client().put(format!("{u}/v1/alarms/{alarm}")).json(&json!({ "triggered_at": now })),
        client().post(format!("{u}/v1/alarms/{alarm}/cancel")).json(&json!({ "cancelled_at": now })),
        client().put(format!("{u}/v1/checkins/{checkin}")).json(&json!({ "started_at": now, "deadline": now + chrono::Duration::hours(2), "revision": 2 })),
        client().post(format!("{u}/v1/checkins/{checkin}/checkout")).json(&json!({ "at": now, "outcome": "calm" })),
        client().put(format!("{u}/v1/reports/{report}")).json(&json!({ "revision": 2, "report": {} })),
        client().put(format!("{u}/v1/reports/{report}/attachments/{}", Uuid::now_v7())).json(&meta),
    ];
    for w in writes {
        let st = status(w.bearer_auth(&x.token)).await;
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
            "a write into the other region: {st}"
        );
    }
    let held = s.store.alarm("uppsala", alarm).await.unwrap().unwrap();
    assert_eq!(held.status, varn_core::wire::AlarmStatus::Open, "untouched");
    assert_eq!(held.version, 1);
    let k = s.store.checkin("uppsala", checkin).await.unwrap().unwrap();
    assert_eq!(k.revision, 1);
    assert_eq!(
        s.store
            .report("uppsala", report)
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );

    // A Sörmland officer sees none of it and can touch none of it.
    let officer = s
        .officer_client("hanna", "Hanna Handläggare", "sormland")
        .await;
    for list in ["alarms", "reports"] {
        let v: Value = officer
            .get(format!("{u}/dashboard/api/{list}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(0), "{list}: {v}");
    }
    let v: Value = officer
        .get(format!("{u}/dashboard/api/checkins"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["checkins"].as_array().map(Vec::len), Some(0), "{v}");
    for path in [
        format!("/dashboard/api/alarms/{alarm}/timeline"),
        format!("/dashboard/api/reports/{report}"),
        format!("/dashboard/api/attachments/{att}"),
    ] {
        assert_eq!(
            status(officer.get(format!("{u}{path}"))).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in ["ack", "shown", "notes"] {
        let st = status(
            officer
                .post(format!("{u}/dashboard/api/alarms/{alarm}/{path}"))
                .header("origin", &u)
                .json(&json!({ "text": "x" })),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let held = s.store.alarm("uppsala", alarm).await.unwrap().unwrap();
    assert_eq!(held.status, varn_core::wire::AlarmStatus::Open);
    assert_eq!(
        s.store.alarm_events("uppsala", alarm).await.unwrap().len(),
        2,
        "triggered and received, nothing more"
    );
    // While the Uppsala officer sees exactly Y's alarm.
    let officer_y = s.officer_client("ulla", "Ulla Uppsala", "uppsala").await;
    let v: Value = officer_y
        .get(format!("{u}/dashboard/api/alarms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], json!(alarm));
    s.stop().await;
}

/// A region's newer signed profile, published on one instance, is served by every instance
/// on the database; one not newer, or signed by a key that is not the region's, is refused
/// and the region's devices keep getting the one published before. The other region is
/// untouched. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_profile_reaches_every_instance_and_only_the_regions_key_publishes() {
    let s = two_region_server().await;
    let y = s.enroll_in("uppsala", "Yngve i Uppsala").await;
    let x = s.enroll_in("sormland", "Xenia i Sörmland").await;
    let served = |server: &TestServer, token: String| {
        let url = format!("{}/v1/profile", server.url());
        async move {
            let text = client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            varn_core::signing::SignedProfile::parse(&text)
                .unwrap()
                .profile()
                .unwrap()
        }
    };
    let mut uppsala = served(&s, y.token.clone()).await;
    let before = uppsala.version;
    uppsala.version += 1;
    uppsala.contacts[1].number = Some("070-174 06 09".into());
    s.publish(&signed_for_tests(&uppsala)).await.unwrap();
    assert_eq!(served(&s, y.token.clone()).await, uppsala);
    assert_eq!(
        served(&s, x.token.clone()).await.region.id,
        "sormland",
        "the other region is untouched"
    );
    // Not newer, or another key: refused, and what is served stays.
    assert!(s
        .publish(&signed_for_tests(&uppsala))
        .await
        .unwrap_err()
        .contains("not newer"));
    let mut forged = uppsala.clone();
    forged.version += 1;
    let stranger = varn_core::signing::SecretKey::from_seed([0x42; 32]);
    let refused = s
        .publish(&varn_core::signing::SignedProfile::sign(
            &forged,
            &stranger,
            Vec::new(),
        ))
        .await
        .unwrap_err();
    assert!(
        refused.contains(&stranger.public().fingerprint()),
        "{refused}"
    );
    assert_eq!(served(&s, y.token.clone()).await.version, before + 1);

    // A second instance on the same database, started with the old profiles, serves the
    // published one.
    let second = TestServer::start_serving(
        s.database.clone(),
        Arc::new(SystemClock),
        None,
        s.running
            .state
            .regions()
            .iter()
            .map(|r| {
                let mut p = Profile::embedded_default().unwrap();
                if r == "uppsala" {
                    p.region.id = "uppsala".into();
                    p.region.name = "Region Uppsala".into();
                }
                signed_for_tests(&p)
            })
            .collect(),
    )
    .await;
    assert!(
        served(&second, y.token.clone()).await == uppsala,
        "the published one"
    );
    second.stop().await;
    s.stop().await;
}
