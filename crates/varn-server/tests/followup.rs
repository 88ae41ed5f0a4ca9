//! The region's follow-up, on the real server: statistics that equal a hand-counted table
//! (the election split, drills never counted, small counts hidden, one region never sees
//! another's), the follow-up of a report reaching the person's device, every read in the
//! audit log (which cannot be changed), and retention deleting exactly what is past its time
//! while the statistics stay the same. Runs on SQLite and, with
//! `VARN_TEST_DATABASE=postgres`, on PostgreSQL.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use varn_core::profile::{ElectionPeriod, Profile};
use varn_core::signing::SignedProfile;
use varn_server::clock::{Clock, ManualClock, SystemClock};
use varn_server::retention::Retention;
use varn_server::store::{AuditQuery, Database};
use varn_server::testkit::device::Device;
use varn_server::testkit::{http_client as client, signed_for_tests, TestServer};

/// Sörmland with an election campaign from 15 August to 13 September 2026, and Uppsala.
async fn two_regions() -> TestServer {
    two_regions_at(Arc::new(SystemClock)).await
}

/// The same on a given clock.
async fn two_regions_at(clock: Arc<dyn Clock>) -> TestServer {
    TestServer::start_regions(region_profiles(), clock).await
}

fn region_profiles() -> Vec<SignedProfile> {
    let mut sormland = Profile::embedded_default().unwrap();
    sormland.election = Some(ElectionPeriod {
        from: "2026-08-15".into(),
        to: "2026-09-13".into(),
        note: varn_core::profile::Text {
            sv: "Valrörelse".into(),
            en: "Election campaign".into(),
        },
    });
    let mut other = Profile::embedded_default().unwrap();
    other.region.id = "uppsala".into();
    other.region.name = "Region Uppsala".into();
    vec![signed_for_tests(&sormland), signed_for_tests(&other)]
}

async fn put_report(device: &Device, report: Value) -> Uuid {
    let id = Uuid::now_v7();
    let res = device
        .put(
            &format!("/v1/reports/{id}"),
            &json!({ "revision": 1, "report": report }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    id
}

async fn post(c: &reqwest::Client, s: &TestServer, path: &str, body: Value) -> reqwest::Response {
    c.post(format!("{}{path}", s.url()))
        .header("origin", s.url())
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn row<'a>(rows: &'a Value, key: &str) -> &'a Value {
    &rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {rows}"))["count"]
}

const YEAR: &str = "from=2026-01&to=2026-12";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_equal_the_hand_counted_table_and_stay_in_their_region() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    let yngve = s.device_in("uppsala", "Yngve").await;
    let threat = |day: &str, extra: Value| {
        let mut r = json!({
            "started_at": format!("{day}T10:00:00Z"), "event": "threat_harassment",
            "channel": "social_media", "police_reported": false, "not_reported_reason": "pointless",
            "repeated": true, "during": "hot",
        });
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    put_report(
        &anna,
        threat(
            "2026-03-02",
            json!({ "consequences": ["fear", "considered_leaving"] }),
        ),
    )
    .await;
    put_report(
        &anna,
        threat("2026-03-09", json!({ "consequences": ["fear"] })),
    )
    .await;
    put_report(
        &anna,
        threat(
            "2026-03-20",
            json!({ "consequences": ["fear"], "sexual": true }),
        ),
    )
    .await;
    // In the campaign: a violent one reported to the police, and one written before the
    // follow-up fields existed (its old kind counts as a threat by phone).
    put_report(
        &anna,
        json!({ "started_at": "2026-09-01T18:00:00Z", "event": "violence_damage_theft",
        "channel": "in_person", "police_reported": true, "not_reported_reason": "pointless" }),
    )
    .await;
    put_report(
        &anna,
        json!({ "started_at": "2026-09-05T08:00:00Z", "kind": "phone" }),
    )
    .await;
    put_report(&anna, threat("2025-12-31", json!({}))).await; // before the period
    put_report(&yngve, threat("2026-03-03", json!({}))).await; // another region

    // Alarms: three acknowledged, one cancelled, one drill (never counted).
    let officer = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let now = chrono::Utc::now();
    for _ in 0..3 {
        let id = s.raise(&anna, json!({ "triggered_at": now })).await;
        assert!(post(
            &officer,
            &s,
            &format!("/dashboard/api/alarms/{id}/ack"),
            json!({})
        )
        .await
        .status()
        .is_success());
    }
    let cancelled = s.raise(&anna, json!({ "triggered_at": now })).await;
    s.cancel(&anna, cancelled, false).await;
    s.raise(&anna, json!({ "triggered_at": now, "drill": true }))
        .await;

    // Five reports: hand-counted, then hidden by the rule wherever a count of 1 or 2 could
    // be read off (varn_core::stats::suppress), the same in the JSON and the CSV.
    let f = s
        .officer_json::<Value>(&officer, &format!("/dashboard/api/statistics?{YEAR}"))
        .await;
    assert_eq!(f["reports"], 5, "{f:#}");
    assert_eq!(f["min_shown"], 3);
    assert_eq!(
        (f["first_month"].as_str(), f["last_month"].as_str()),
        (Some("2026-01"), Some("2026-12"))
    );
    // March's 3 hides with September's 2: else 5 - 3.
    assert_eq!(
        f["months"][2],
        json!({ "month": "2026-03", "reports": "hidden", "alarms": 0 })
    );
    assert_eq!(f["months"][8]["reports"], "hidden");
    assert_eq!(f["months"][0]["reports"], 0);
    // Four threats and one violent: the one is hidden, and the four with it.
    assert_eq!(*row(&f["by_event"], "threat_harassment"), "hidden");
    assert_eq!(*row(&f["by_event"], "violence_damage_theft"), "hidden");
    assert_eq!(*row(&f["by_event"], "corruption"), 0);
    // 3 by social media, 1 in person, 1 by phone: two hidden ones could only be ones.
    assert_eq!(*row(&f["by_channel"], "social_media"), "hidden");
    assert_eq!(*row(&f["by_channel"], "phone"), "hidden");
    assert_eq!(*row(&f["by_channel"], "letter"), 0);
    // 3 of 5 in fear: the 2 without would be 5 - 3.
    assert_eq!(*row(&f["by_consequence"], "fear"), "hidden");
    assert_eq!(*row(&f["by_consequence"], "considered_leaving"), "hidden");
    assert_eq!(*row(&f["by_consequence"], "family_affected"), 0);
    assert_eq!(f["sexual"], "hidden");
    assert_eq!(f["repeated"], "hidden");
    assert_eq!(f["police"]["reported"], "hidden");
    assert_eq!(f["police"]["not_reported"], "hidden", "else 5 - 1");
    assert_eq!(f["police"]["share_reported_percent"], Value::Null);
    // The reasons add up to a hidden count, and one of them is hidden: the 3 can be shown.
    assert_eq!(*row(&f["police"]["reasons"], "pointless"), 3);
    assert_eq!(*row(&f["police"]["reasons"], "unanswered"), "hidden");
    let e = &f["election"];
    assert_eq!(
        (e["days_in_campaign"].clone(), e["days_outside"].clone()),
        (json!(61), json!(304)),
        "the campaign's months, August and September"
    );
    assert_eq!(e["reports_in_campaign"], "hidden");
    assert_eq!(e["reports_outside"], "hidden");
    assert_eq!(f["alarms"]["real"], 4, "the drill is not an alarm");
    assert_eq!(f["alarms"]["from_checkin"], 0);
    // 3 of 4 acknowledged: the one that was not would be 4 - 3.
    assert_eq!(f["alarms"]["acknowledged"], "hidden");
    assert_eq!(f["alarms"]["ack_median_seconds"], Value::Null);

    // One kind of event only.
    let v = s
        .officer_json::<Value>(
            &officer,
            &format!("/dashboard/api/statistics?{YEAR}&event=violence_damage_theft"),
        )
        .await;
    assert_eq!(v["reports"], "hidden");
    assert_eq!(v["alarms"]["real"], 4);

    // The CSV says the same, in words.
    let res = officer
        .get(format!("{}/dashboard/api/statistics.csv?{YEAR}", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("varn-statistik-2026-01-01-2026-12-31.csv"));
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("period;months;Hela månader;2026-01..2026-12\n"),
        "{csv}"
    );
    assert!(
        csv.contains("event;threat_harassment;Hot och trakasserier;dold\n"),
        "{csv}"
    );
    assert!(csv.contains("not_reported_reason;pointless;Tror inte att det leder till något;3\n"));
    assert!(csv.contains("alarms;real;Larm (testlarm räknas inte);4\n"));
    assert_opens_in_columns(&csv, ';');
    let english = officer
        .get(format!(
            "{}/dashboard/api/statistics.csv?{YEAR}&lang=en",
            s.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        english.contains("total,sexual,Of a sexual character,hidden\n"),
        "{english}"
    );
    assert_opens_in_columns(&english, ',');

    // Uppsala's officer sees Uppsala's one report, hidden, and nothing of Sörmland's.
    let other = s.officer_client("olle", "Olle", "uppsala").await;
    let u = s
        .officer_json::<Value>(&other, &format!("/dashboard/api/statistics?{YEAR}"))
        .await;
    assert_eq!(u["reports"], "hidden");
    assert_eq!(u["alarms"]["real"], 0);
    assert_eq!(
        u["election"],
        Value::Null,
        "Uppsala's profile names no campaign"
    );

    // Bad filters are problem+json that say what to change; no session, no figures.
    let res = officer
        .get(format!(
            "{}/dashboard/api/statistics?from=2026-13-01",
            s.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(res.text().await.unwrap().contains("from"));
    // A day inside a month: refused, naming the month to ask for.
    let res = officer
        .get(format!(
            "{}/dashboard/api/statistics?from=2026-01-01&to=2026-06-29",
            s.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = res.json::<Value>().await.unwrap()["detail"].clone();
    assert!(detail.as_str().unwrap().contains("to=2026-06"), "{detail}");
    let res = officer
        .get(format!("{}/dashboard/api/statistics?colour=red", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = client()
        .get(format!("{}/dashboard/api/statistics", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Every count in an answer, by where it stands (`by_perpetrator/organised`, `months/2026-06/reports`).
fn counts(f: &Value) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    let mut put = |k: String, v: &Value| {
        out.insert(k, v.clone());
    };
    for key in ["reports", "sexual", "repeated"] {
        put(key.into(), &f[key]);
    }
    for m in f["months"].as_array().unwrap() {
        put(
            format!("months/{}/reports", m["month"].as_str().unwrap()),
            &m["reports"],
        );
    }
    for list in ["by_event", "by_channel", "by_perpetrator", "by_consequence"] {
        for r in f[list].as_array().unwrap() {
            put(
                format!("{list}/{}", r["key"].as_str().unwrap()),
                &r["count"],
            );
        }
    }
    for r in f["police"]["reasons"].as_array().unwrap() {
        put(
            format!("reasons/{}", r["key"].as_str().unwrap()),
            &r["count"],
        );
    }
    put("police/reported".into(), &f["police"]["reported"]);
    put("police/not_reported".into(), &f["police"]["not_reported"]);
    out
}

/// The set, written by a person's device: 40 reports from January to May, and one
/// alone on 30 June (an organised group, by e-mail, of a sexual character, not reported, the
/// person considered leaving). No answer for whole months of 2026, and no two a month apart,
/// shows a count of 1 or 2 or differs by one in a count both show; what is shown is the hand
/// count. (The rule's full attacker, groups included, runs in varn_core::stats's tests.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_report_cannot_be_read_off_the_statistics() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    let channels = ["social_media", "in_person", "phone", "email"];
    let perpetrators = ["unknown", "unknown_person", "known_person"];
    let mut written = Vec::new();
    for i in 0..40usize {
        let r = json!({
            "started_at": format!("2026-0{}-{:02}T10:00:00Z", 1 + i % 5, 1 + i % 28),
            "event": if i % 3 == 0 { "violence_damage_theft" } else { "threat_harassment" },
            "channel": channels[i % 4], "perpetrator": perpetrators[i % 3],
            "police_reported": i % 4 == 0, "sexual": i % 5 == 0, "consequences": ["fear"],
        });
        put_report(&anna, r.clone()).await;
        written.push(r);
    }
    let lone = json!({
        "started_at": "2026-06-30T21:00:00Z", "event": "threat_harassment", "channel": "email",
        "perpetrator": "organised", "sexual": true, "police_reported": false,
        "consequences": ["considered_leaving"],
    });
    put_report(&anna, lone.clone()).await;
    written.push(lone);

    let officer = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let mut answers = std::collections::BTreeMap::new();
    for a in 1..=12u32 {
        for b in a..=12u32 {
            let f = s
                .officer_json::<Value>(
                    &officer,
                    &format!("/dashboard/api/statistics?from=2026-{a:02}&to=2026-{b:02}"),
                )
                .await;
            answers.insert((a, b), counts(&f));
        }
    }
    let few = |v: &Value| matches!(v.as_u64(), Some(1 | 2));
    for ((a, b), cells) in &answers {
        for (k, v) in cells {
            assert!(!few(v), "2026-{a:02}..{b:02}: {k} = {v}");
        }
        for other in [answers.get(&(*a, b - 1)), answers.get(&(a + 1, *b))]
            .into_iter()
            .flatten()
        {
            for (k, v) in cells {
                if let (Some(x), Some(y)) = (v.as_u64(), other.get(k).and_then(Value::as_u64)) {
                    assert!(
                        !matches!(x.abs_diff(y), 1 | 2),
                        "2026-{a:02}..{b:02}: {k} {x} against {y}"
                    );
                }
            }
        }
    }

    // The two answers.
    let june = &answers[&(1, 6)];
    let may = &answers[&(1, 5)];
    assert_eq!(june["reports"], "hidden", "41 against May's 40");
    assert_eq!(june["by_perpetrator/organised"], "hidden");
    assert_eq!(june["months/2026-06/reports"], "hidden");
    assert_eq!(may["reports"], 40);
    // What is shown is the hand count.
    let hand =
        |pick: &dyn Fn(&Value) -> bool| written[..40].iter().filter(|r| pick(r)).count() as u64;
    let checks: [(&str, u64); 6] = [
        (
            "by_perpetrator/unknown",
            hand(&|r| r["perpetrator"] == "unknown"),
        ),
        ("by_perpetrator/organised", 0),
        ("by_channel/email", hand(&|r| r["channel"] == "email")),
        (
            "by_event/violence_damage_theft",
            hand(&|r| r["event"] == "violence_damage_theft"),
        ),
        ("police/reported", hand(&|r| r["police_reported"] == true)),
        ("sexual", hand(&|r| r["sexual"] == true)),
    ];
    let mut exact = 0;
    for (k, n) in checks {
        if let Some(shown) = may[k].as_u64() {
            assert_eq!(shown, n, "{k}");
            exact += 1;
        }
    }
    assert!(exact >= 3, "{may:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follow_up_reaches_the_person_and_goes_on_the_reports_timeline() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    let id = put_report(
        &anna,
        json!({ "event": "threat_harassment", "during": "Han hotade mig." }),
    )
    .await;
    let device_view = || async {
        let res = anna.get(&format!("/v1/reports/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()
    };
    assert_eq!(
        device_view().await.get("followup"),
        None,
        "nobody has taken it yet"
    );

    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let list = s
        .officer_json::<Value>(&hanna, "/dashboard/api/reports")
        .await;
    assert_eq!(list[0]["followup"]["state"], "new");
    assert_eq!(list[0]["event"], "threat_harassment");
    assert!(
        list[0].get("body").is_none(),
        "the list shows no content; reading is opening"
    );

    let res = post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "taken", "message": "Jag ringer dig i morgon förmiddag. /Hanna" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let d = device_view().await;
    assert_eq!(d["followup"]["state"], "taken");
    assert_eq!(d["followup"]["by"], "Hanna Holm");
    assert_eq!(
        d["followup"]["message"],
        "Jag ringer dig i morgon förmiddag. /Hanna"
    );

    // The same change again writes nothing new; going back to "new" is refused.
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "taken", "message": "Jag ringer dig i morgon förmiddag. /Hanna" }),
    )
    .await;
    let res = post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "new" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "closed", "note": "Samtal hållet, polisanmälan gjord." }),
    )
    .await;
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["followup"]["state"], "closed");
    let kinds: Vec<&str> = closed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["received", "taken", "message", "closed"]);
    assert_eq!(
        closed["timeline"][3]["detail"],
        "Samtal hållet, polisanmälan gjord."
    );
    let d = device_view().await;
    assert_eq!(d["followup"]["state"], "closed");
    assert_eq!(
        d["followup"]["message"], "Jag ringer dig i morgon förmiddag. /Hanna",
        "the note stays with the region"
    );
    assert!(!d.to_string().contains("Samtal hållet"));

    // Another region's officer can neither read nor change it; a cross-site post is refused.
    let olle = s.officer_client("olle", "Olle", "uppsala").await;
    let res = post(
        &olle,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "taken" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = hanna
        .post(format!("{}/dashboard/api/reports/{id}/followup", s.url()))
        .header("origin", "https://evil.example")
        .json(&json!({ "state": "taken" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{id}/followup"),
        json!({ "state": "taken", "message": "x".repeat(1001) }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_and_export_is_in_the_audit_log_which_cannot_be_changed() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    let report = put_report(&anna, json!({ "during": "hot" })).await;
    let data = "skärmdump".as_bytes().to_vec();
    let att = s.upload_attachment(&anna, report, "a.png", &data).await;
    let alarm = s
        .raise(&anna, json!({ "triggered_at": chrono::Utc::now() }))
        .await;

    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let u = s.url();
    s.officer_json::<Value>(&hanna, &format!("/dashboard/api/reports/{report}"))
        .await;
    assert_eq!(
        hanna
            .get(format!("{u}/dashboard/api/attachments/{att}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        data
    );
    s.officer_json::<Value>(&hanna, &format!("/dashboard/api/alarms/{alarm}/timeline"))
        .await;
    assert!(hanna
        .get(format!("{u}/dashboard/api/alarms/{alarm}/timeline.txt"))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    assert!(hanna
        .get(format!("{u}/dashboard/api/statistics.csv?{YEAR}"))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    // The list shows who wrote what when: recorded with the ids it returned.
    s.officer_json::<Value>(&hanna, "/dashboard/api/reports")
        .await;

    let log = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/audit/{report}"))
        .await;
    assert_eq!(log.as_array().unwrap().len(), 2, "{log:#}");
    assert_eq!(log[1]["officer"], "hanna");
    assert_eq!(log[1]["action"], "read_report");
    assert_eq!(log[0]["action"], "read_report_list");
    assert_eq!(log[0]["items"], report.to_string());
    let log = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/audit/{alarm}"))
        .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["export_timeline", "read_timeline"],
        "newest first"
    );
    let log = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/audit/{att}"))
        .await;
    assert_eq!(log[0]["action"], "read_attachment");

    // Another region's officer reads nothing, and so nothing is recorded for them.
    let olle = s.officer_client("olle", "Olle", "uppsala").await;
    assert_eq!(
        olle.get(format!("{u}/dashboard/api/reports/{report}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        olle.get(format!("{u}/dashboard/api/attachments/{att}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let logged = s
        .store
        .audit_log(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    // Each login is in the log too, with the officer's role.
    let sign_ins: Vec<_> = logged.iter().filter(|e| e.action == "sign_in").collect();
    assert_eq!(sign_ins.len(), 2, "hanna's and olle's");
    assert!(sign_ins
        .iter()
        .all(|e| e.role == "handläggare" && e.item_id == "password"));
    let all: Vec<_> = logged
        .into_iter()
        .filter(|e| e.action != "sign_in")
        .collect();
    assert_eq!(all.len(), 6, "{all:#?}");
    assert!(all
        .iter()
        .all(|e| e.officer == "hanna" && e.region_id == "sormland"));
    assert_eq!(all[1].action, "export_statistics");
    assert_eq!(all[1].item_id, "2026-01..2026-12");
    let olles = s
        .officer_json::<Value>(&olle, &format!("/dashboard/api/audit/{report}"))
        .await;
    assert_eq!(
        olles,
        json!([]),
        "the log of another region's item is not shown"
    );

    // The database refuses to change or remove a line of the log.
    let refused = match &s.database {
        Database::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute("DELETE FROM audit_log", []).is_err()
                && c.execute("UPDATE audit_log SET officer = 'x'", []).is_err()
        }
        Database::Postgres(url) => {
            let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let refused = c.execute("DELETE FROM audit_log", &[]).await.is_err()
                && c.execute("UPDATE audit_log SET officer = 'x'", &[])
                    .await
                    .is_err()
                && c.batch_execute("TRUNCATE audit_log").await.is_err();
            // The server's own role may not, and the guard holds even for a superuser.
            let may: bool = c
                .query_one(
                    "SELECT has_table_privilege('audit_log', 'DELETE')
                        OR has_table_privilege('audit_log', 'TRUNCATE')
                        OR has_table_privilege('audit_log', 'UPDATE')",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            assert!(
                !may,
                "the server's role has no DELETE, TRUNCATE or UPDATE on the log"
            );
            let superuser = url.replace(
                &format!("{}@", varn_server::testkit::pg::SERVER_ROLE),
                &format!("{}@", varn_server::testkit::pg::USER),
            );
            let (su, conn) = tokio_postgres::connect(&superuser, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let truncate = su.batch_execute("TRUNCATE audit_log").await.unwrap_err();
            assert!(
                truncate.to_string().contains("append-only")
                    || format!("{truncate:?}").contains("append-only"),
                "{truncate:?}"
            );
            refused
        }
    };
    assert!(refused, "the audit log is append-only");
    assert_eq!(
        s.store
            .audit_log(&AuditQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action != "sign_in")
            .count(),
        6
    );
}

/// Every read of what the dashboard shows of people is recorded before it is answered, with
/// the ids it returned: the alarm list, the live feed (its first list when it opens, what it
/// sent after when it ends), one alarm whole, the answers to acknowledge, message and note,
/// the check-ins, the devices. The list and the feed carry no conversation and no
/// instructions: those are read one alarm at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_read_is_in_the_audit_log_with_what_it_returned() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    let device_id = s.store.devices(Some("sormland")).await.unwrap()[0].id;
    let res = anna
        .put(
            varn_core::paths::INSTRUCTIONS,
            &json!({ "text": "Ring min syster Eva." }),
        )
        .await;
    assert!(res.status().is_success());
    let alarm = s
        .raise(
            &anna,
            json!({ "triggered_at": chrono::Utc::now(), "place": "Stadshuset" }),
        )
        .await;
    let checkin = Uuid::now_v7();
    let now = chrono::Utc::now();
    let res = anna
        .put(
            &format!("/v1/checkins/{checkin}"),
            &json!({ "started_at": now, "deadline": now + chrono::Duration::hours(2),
                     "meeting": "Medborgardialog", "place": "Folkets hus", "revision": 1 }),
        )
        .await;
    assert!(res.status().is_success());
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let u = s.url();
    let entries = || async {
        let mut all = s
            .store
            .audit_log(&AuditQuery {
                region_id: Some("sormland".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        all.reverse();
        all.into_iter()
            .map(|e| (e.action, e.item_id, e.items))
            .collect::<Vec<_>>()
    };

    // The list: no conversation, no instructions, only that there are some.
    let list = s
        .officer_json::<Value>(&hanna, "/dashboard/api/alarms")
        .await;
    assert_eq!(list[0]["id"], alarm.to_string());
    assert!(
        list[0].get("messages").is_none() && list[0].get("instructions").is_none(),
        "{list:#}"
    );
    assert_eq!(list[0]["has_instructions"], true);
    assert_eq!(list[0]["messages_count"], 0);
    let last = entries().await.pop().unwrap();
    assert_eq!(
        last,
        (
            "read_alarm_list".into(),
            "1 returned".into(),
            alarm.to_string()
        )
    );

    // The live feed: recorded when it opens, and what it sent after, when it ends.
    let mut feed = hanna
        .get(format!("{u}/dashboard/api/events"))
        .send()
        .await
        .unwrap();
    let first = feed.chunk().await.unwrap().unwrap();
    let first = String::from_utf8_lossy(&first).to_string();
    assert!(
        first.contains("snapshot") && !first.contains("Ring min syster"),
        "{first}"
    );
    assert_eq!(entries().await.pop().unwrap().0, "open_live_feed");
    // One alarm whole: its instructions, recorded.
    let whole = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/alarms/{alarm}"))
        .await;
    assert_eq!(whole["instructions"], "Ring min syster Eva.");
    assert_eq!(entries().await.pop().unwrap().0, "read_alarm");
    // A message: the feed carries the change (without the text); the answer is the alarm.
    let sent = post(
        &hanna,
        &s,
        &format!("/dashboard/api/alarms/{alarm}/messages"),
        json!({ "id": Uuid::now_v7(), "text": "Kan du prata?" }),
    )
    .await;
    assert_eq!(
        sent.json::<Value>().await.unwrap()["messages"][0]["text"],
        "Kan du prata?"
    );
    let change = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let change = String::from_utf8_lossy(&change).to_string();
    assert!(
        change.contains("\"messages_count\":1") && !change.contains("Kan du prata"),
        "{change}"
    );
    assert_eq!(entries().await.pop().unwrap().0, "read_alarm");
    // A note: the answer is the timeline.
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/alarms/{alarm}/notes"),
        json!({ "text": "Polisen larmad." }),
    )
    .await;
    assert_eq!(entries().await.pop().unwrap().0, "read_timeline");
    // Acknowledged: the answer is the alarm.
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/alarms/{alarm}/ack"),
        json!({}),
    )
    .await;
    assert_eq!(entries().await.pop().unwrap().0, "read_alarm");
    // The feed ends: what it sent after its first list is written down.
    drop(feed);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let all = entries().await;
        if let Some(e) = all.iter().find(|e| e.0 == "live_feed_sent") {
            assert_eq!(e.2, alarm.to_string());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no entry for the ended feed: {all:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Check-ins and devices.
    s.officer_json::<Value>(&hanna, "/dashboard/api/checkins")
        .await;
    assert_eq!(
        entries().await.pop().unwrap(),
        (
            "read_checkins".into(),
            "1 returned".into(),
            checkin.to_string()
        )
    );
    s.officer_json::<Value>(&hanna, "/dashboard/api/devices")
        .await;
    assert_eq!(
        entries().await.pop().unwrap(),
        (
            "read_devices".into(),
            "1 returned".into(),
            device_id.to_string()
        )
    );
    // Who has seen the alarm: every entry that returned it.
    let seen = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/audit/{alarm}"))
        .await;
    let actions: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "read_alarm_list",
        "open_live_feed",
        "read_alarm",
        "read_timeline",
        "live_feed_sent",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_exactly_what_is_past_its_time_and_the_figures_stay() {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let clock = Arc::new(ManualClock::new(t0));
    let s = two_regions_at(clock.clone()).await;
    let anna = s.device_in("sormland", "Anna").await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let report = |day: &'static str| json!({ "started_at": format!("{day}T10:00:00Z"), "event": "threat_harassment", "channel": "email" });
    // The old report says something nobody else does: after the purge, no file holds it.
    let mut first = report("2026-02-01");
    first["during"] = json!(SECRET);
    let old = put_report(&anna, first).await;
    let newer = put_report(&anna, report("2026-02-02")).await;
    let open = put_report(&anna, report("2026-02-03")).await;
    let att = s.upload_attachment(&anna, old, "a.png", b"bild").await;
    let finished = s.raise(&anna, json!({ "triggered_at": t0 })).await;
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/alarms/{finished}/ack"),
        json!({}),
    )
    .await;
    let duress = s.raise(&anna, json!({ "triggered_at": t0 })).await;
    let res = anna
        .post(
            &format!("/v1/alarms/{duress}/cancel"),
            &json!({ "cancelled_at": t0, "duress": true }),
        )
        .await;
    assert!(res.status().is_success());
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/alarms/{duress}/ack"),
        json!({}),
    )
    .await;
    let still_open = s.raise(&anna, json!({ "triggered_at": t0 })).await;
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{old}/followup"),
        json!({ "state": "closed" }),
    )
    .await;
    // A check-in that ended well: where the person was, and when.
    let checkin = Uuid::now_v7();
    let res = anna
        .put(
            &format!("/v1/checkins/{checkin}"),
            &json!({ "started_at": t0, "deadline": t0 + chrono::Duration::hours(1),
                     "meeting": "Medborgardialog", "place": "Folkets hus", "revision": 1 }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = anna
        .post(
            &format!("/v1/checkins/{checkin}/checkout"),
            &json!({ "at": t0, "outcome": "calm" }),
        )
        .await;
    assert!(res.status().is_success());
    if let Database::Sqlite(path) = &s.database {
        assert!(
            !files_holding(path, SECRET).is_empty(),
            "before the purge the sentence is in the database's files (the test can fail)"
        );
    }

    // Twenty days on, the second is closed; fifteen more, the job runs with 30 days for both.
    clock.advance(chrono::Duration::days(20));
    let hanna = s.login("hanna").await;
    post(
        &hanna,
        &s,
        &format!("/dashboard/api/reports/{newer}/followup"),
        json!({ "state": "closed" }),
    )
    .await;
    clock.advance(chrono::Duration::days(15));
    let figures = || async {
        let hanna = s.login("hanna").await;
        s.officer_json::<Value>(&hanna, &format!("/dashboard/api/statistics?{YEAR}"))
            .await
    };
    let before = figures().await;
    assert_eq!(before["reports"], 3);
    assert_eq!(before["alarms"]["real"], 3);
    // A day on, the last session has expired and nobody has signed in since.
    clock.advance(chrono::Duration::days(1));
    let retention = Retention {
        reports_days: Some(30),
        alarms_days: Some(30),
        duress_alarms_days: None,
    };
    let purged = varn_server::retention::run_once(&s.running.state, retention)
        .await
        .unwrap();
    assert_eq!(
        (
            purged.reports,
            purged.attachments,
            purged.alarms,
            purged.checkins
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(purged.sessions, 1, "the last session, expired: {purged:?}");
    assert_eq!(
        purged.enrollment_codes, 1,
        "Anna's code, used and expired: {purged:?}"
    );
    assert_eq!(figures().await, before, "the figures survive the deletion");
    assert!(s
        .store
        .checkin("sormland", checkin)
        .await
        .unwrap()
        .is_none());
    if let Database::Sqlite(path) = &s.database {
        assert_eq!(
            files_holding(path, SECRET),
            Vec::<String>::new(),
            "the deleted report is gone from the database, its WAL and its shared memory"
        );
    }

    assert!(
        s.store.report("sormland", old).await.unwrap().is_none(),
        "closed 35 days ago"
    );
    assert!(
        s.store.attachment("sormland", att).await.is_err(),
        "the bytes go with it"
    );
    assert!(
        s.store.report("sormland", newer).await.unwrap().is_some(),
        "closed 15 days ago"
    );
    assert!(
        s.store.report("sormland", open).await.unwrap().is_some(),
        "never closed"
    );
    assert!(
        s.store.alarm("sormland", finished).await.unwrap().is_none(),
        "acknowledged, 35 days old"
    );
    assert!(
        s.store.alarm("sormland", duress).await.unwrap().is_some(),
        "an alarm under duress is kept"
    );
    assert!(
        s.store
            .alarm("sormland", still_open)
            .await
            .unwrap()
            .is_some(),
        "an open alarm is never deleted"
    );
    let again = varn_server::retention::run_once(&s.running.state, retention)
        .await
        .unwrap();
    assert_eq!(
        (again.reports, again.alarms, again.checkins),
        (0, 0, 0),
        "a second run finds nothing"
    );
    assert_eq!(figures().await, before);

    // Five years on, the alarm cancelled under duress goes too (by default); the open one
    // stays.
    clock.advance(chrono::Duration::days(1826));
    let later = varn_server::retention::run_once(&s.running.state, retention)
        .await
        .unwrap();
    assert_eq!(later.alarms, 1, "{later:?}");
    assert!(s.store.alarm("sormland", duress).await.unwrap().is_none());
    assert!(s
        .store
        .alarm("sormland", still_open)
        .await
        .unwrap()
        .is_some());
}

/// A sentence only the deleted report holds.
const SECRET: &str = "Han sa att han vet var min dotter går i skola, Ekbacken 14.";

/// Which of the SQLite database's files (the database, `-wal`, `-shm`) hold `text`'s bytes.
fn files_holding(db: &std::path::Path, text: &str) -> Vec<String> {
    let needle = text.as_bytes();
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|side| {
            let name = format!("{}{side}", db.display());
            let bytes = std::fs::read(&name).ok()?;
            bytes
                .windows(needle.len())
                .any(|w| w == needle)
                .then_some(name)
        })
        .collect()
}

/// Reports stored before the statistics existed are counted: their facts are written when a
/// server of this version opens the database (also on PostgreSQL, once, under the migration
/// lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_from_before_the_statistics_are_counted_after_an_upgrade() {
    let s = two_regions().await;
    let anna = s.device_in("sormland", "Anna").await;
    put_report(
        &anna,
        json!({ "started_at": "2026-05-02T10:00:00Z", "kind": "social_media" }),
    )
    .await;
    put_report(
        &anna,
        json!({ "started_at": "2026-05-03T10:00:00Z", "kind": "violence" }),
    )
    .await;
    for day in ["04", "05"] {
        put_report(
            &anna,
            json!({ "started_at": format!("2026-05-{day}T10:00:00Z"), "kind": "letter" }),
        )
        .await;
    }
    // As a database written by the previous version: no facts.
    s.execute_sql("DELETE FROM report_facts").await;
    let database = s.database.clone();
    let dir = s.stop().await;
    let s =
        TestServer::start_serving(database, Arc::new(SystemClock), None, region_profiles()).await;
    let hanna = s.officer_client("hanna", "Hanna Holm", "sormland").await;
    let f = s
        .officer_json::<Value>(&hanna, &format!("/dashboard/api/statistics?{YEAR}"))
        .await;
    assert_eq!(f["reports"], 4);
    assert_eq!(f["months"][4]["reports"], 4);
    assert_eq!(*row(&f["by_event"], "threat_harassment"), "hidden");
    assert_eq!(*row(&f["by_channel"], "letter"), "hidden");
    assert_eq!(*row(&f["by_event"], "unanswered"), 0);
    drop(dir);
}

/// The description's follow-up lists are the core's, in order; the statistics route is
/// documented with the officers' session.
#[test]
fn the_documented_follow_up_lists_are_the_cores() {
    use varn_core::ptu::*;
    let doc: Value =
        serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON");
    let schemas = &doc["components"]["schemas"];
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("an enum")
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    };
    let core = |all: Vec<&str>| all.into_iter().map(String::from).collect::<Vec<_>>();
    // The report's follow-up fields name these lists, and each list is the core's.
    let fields = &schemas["FollowupFields"]["properties"];
    for (field, list, wire) in [
        (
            "event",
            "EventType",
            EventType::ALL.iter().map(|x| x.as_str()).collect(),
        ),
        (
            "channel",
            "Channel",
            Channel::ALL.iter().map(|x| x.as_str()).collect(),
        ),
        (
            "perpetrator",
            "Perpetrator",
            Perpetrator::ALL.iter().map(|x| x.as_str()).collect(),
        ),
        (
            "not_reported_reason",
            "NotReportedReason",
            NotReportedReason::ALL.iter().map(|x| x.as_str()).collect(),
        ),
    ] {
        let refs: Vec<&str> = fields[field]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{field} is one of null and a list"))
            .iter()
            .filter_map(|v| v["$ref"].as_str())
            .collect();
        assert_eq!(refs, [format!("#/components/schemas/{list}")], "{field}");
        assert_eq!(names(&schemas[list]["enum"]), core(wire), "{list}");
    }
    assert_eq!(
        names(&fields["consequences"]["items"]["enum"]),
        core(Consequence::ALL.iter().map(|x| x.as_str()).collect())
    );
    let states: Vec<&str> = varn_core::wire::FollowupState::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(names(&schemas["FollowupState"]["enum"]), core(states));
    let stats = &doc["paths"]["/dashboard/api/statistics"]["get"];
    assert_eq!(
        stats["security"][0]["officerSession"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["officerSession"]["name"],
        varn_server::auth::SESSION_COOKIE
    );
}

/// What a spreadsheet does with the file, done by Python's csv module (not ours): with a
/// byte-order mark (Excel then reads UTF-8) and the language's separator, every row splits
/// into the same four columns, the labels whole.
fn assert_opens_in_columns(csv: &str, separator: char) {
    assert!(csv.starts_with('\u{feff}'), "no byte-order mark");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    std::fs::write(&path, csv).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv,sys\n\
             rows=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline=''),delimiter=sys.argv[2]))\n\
             print(sorted({len(r) for r in rows}), rows[0], len(rows))",
            path.to_str().unwrap(),
            &separator.to_string(),
        ])
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("[4] ['section', 'key', 'label', 'value']"),
        "not four columns in every row: {said}"
    );
}
