//! Sync against the real region server on 127.0.0.1:0, with the app's own `SyncService`, a real
//! (encrypted) SQLite file, and a fault proxy that drops, delays, resets and answers 500/429.
//! The server's own store is the judge: every report once, at revision 1, every attachment
//! complete with the same SHA-256 as on the device.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use varn_app::events::{Event, Observer, Quiet};
use varn_app::os::secrets::{MemorySecrets, SecretStore};
use varn_app::profiles::ActiveProfile;
use varn_app::runners::sync::{SyncConfig, SyncService, SyncState};
use varn_app::storage::Db;
use varn_core::incident::{Incident, Status};
use varn_core::profile::Profile;
use varn_core::signing::SignedProfile;
use varn_server::testkit::proxy::{Fault, FaultProxy};
use varn_server::testkit::{signed_for_tests, test_region_key, TestServer};

mod common;
use common::{App as Device, KEY, TOKEN_KEY};

const CHILD_DB: &str = "VARN_SYNC_CHILD_DB";
const CHILD_TOKEN: &str = "VARN_SYNC_CHILD_TOKEN";

/// Short waits, small chunks (so uploads take many requests and resume for real).
fn fast() -> SyncConfig {
    SyncConfig {
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        tick: Duration::from_millis(300),
        chunk: 16 * 1024,
    }
}

fn region() -> String {
    Profile::embedded_default().unwrap().region.id
}

/// A device enrolled at `url`.
async fn device(server: &TestServer, url: &str, name: &str) -> Device {
    Device::linked(url, &server.enrollment_code(name).await).await
}

fn service(d: &Device, profile: Option<Arc<RwLock<ActiveProfile>>>) -> Arc<SyncService> {
    SyncService::new(d.db.clone(), d.link(), Arc::new(Quiet), profile, fast())
}

/// A ready report with `files` attachments of the given sizes; returns its id and the
/// attachments' checksums.
fn ready_report(db: &Db, n: usize, files: &[usize]) -> (Uuid, Vec<String>) {
    let id = Uuid::now_v7();
    let inc = Incident {
        place: format!("Plats {n}"),
        during: format!("Rapport nummer {n}: hot vid entrén – ”åäö”"),
        ..Default::default()
    };
    db.create_incident(id, &inc).unwrap();
    let mut shas = Vec::new();
    for (i, &size) in files.iter().enumerate() {
        let bytes: Vec<u8> = (0..size)
            .map(|b| ((b * 31 + n * 7 + i) % 251) as u8)
            .collect();
        let a = db
            .add_attachment(
                id,
                &format!("bild-{n}-{i}.jpg"),
                "image/jpeg",
                size as u64,
                &bytes[..],
            )
            .unwrap();
        shas.push(hex::encode(Sha256::digest(&bytes)));
        assert_eq!(a.sha256, shas[i]);
    }
    db.mark_incident_ready(id).unwrap();
    (id, shas)
}

/// Waits until the outbox is empty (or panics after `limit`).
async fn drained(db: &Db, limit: Duration) {
    let start = std::time::Instant::now();
    loop {
        let c = db.queue_counts().unwrap();
        if c.queued == 0 {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "the outbox did not drain in {limit:?}: {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server holds each report once, at revision 1, with the device's text and every
/// attachment complete with the device's checksum, byte for byte.
async fn assert_on_server(server: &TestServer, expected: &HashMap<Uuid, Vec<String>>) {
    let region = region();
    let all = server.store.reports(&region, 10_000).await.unwrap();
    assert_eq!(all.len(), expected.len(), "one report per id, no more");
    for r in &all {
        let shas = expected.get(&r.id).expect("a report the device wrote");
        assert_eq!(r.revision, 1, "report {} was stored more than once", r.id);
        assert!(r.body["during"]
            .as_str()
            .unwrap()
            .starts_with("Rapport nummer"));
        assert_eq!(r.attachments.len(), shas.len(), "attachments of {}", r.id);
        let mut got: Vec<String> = Vec::new();
        for a in &r.attachments {
            assert!(a.complete_at.is_some(), "attachment {} incomplete", a.id);
            let bytes = server.attachment_bytes(&region, a.id).await;
            assert_eq!(hex::encode(Sha256::digest(&bytes)), a.sha256);
            got.push(a.sha256.clone());
        }
        let mut want = shas.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "attachments of {}", r.id);
    }
}

fn assert_all_received(db: &Db, n: usize) {
    let rows = db.incidents().unwrap();
    assert_eq!(rows.len(), n);
    for r in rows {
        assert_eq!(r.status, Status::Received, "report {}", r.id);
        assert!(r.received_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reports_arrive_exactly_once_through_a_misbehaving_network() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let d = device(&server, &proxy.url(), "Kim Kaos").await;
    let mut rng = rand::rng();
    let mut expected = HashMap::new();
    for n in 0..200 {
        let files: Vec<usize> = match n % 4 {
            0 => vec![],
            1 => vec![rng.random_range(1..60_000)],
            2 => vec![0, rng.random_range(1..40_000)],
            _ => vec![rng.random_range(16_000..70_000)],
        };
        let (id, shas) = ready_report(&d.db, n, &files);
        expected.insert(id, shas);
    }
    // A fifth of all requests misbehave: lost either way, 500, 429, slow.
    proxy.set(Fault::Chaos { percent: 20 });
    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    drained(&d.db, Duration::from_secs(240)).await;
    task.abort();
    assert!(
        proxy.cut() > 20,
        "the proxy misbehaved ({} times)",
        proxy.cut()
    );
    assert_all_received(&d.db, 200);
    assert_on_server(&server, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_make_no_duplicates() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.running.addr, Fault::Pass).await;
    let d = device(&server, &proxy.url(), "Lo Lost").await;
    let mut expected = HashMap::new();
    for n in 0..5 {
        let (id, shas) = ready_report(&d.db, n, &[20_000]);
        expected.insert(id, shas);
    }
    // The server does the work; the device never hears of it.
    proxy.set(Fault::DropResponse);
    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    let region = region();
    let start = std::time::Instant::now();
    while server.store.reports(&region, 100).await.unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        d.db.queue_counts().unwrap().queued > 0,
        "no answer came back, so nothing is done"
    );
    // It alternates between a retry on the way (Sending) and its backoff (Waiting); a single
    // look can land on either, so wait for the backoff, which must come.
    let start = std::time::Instant::now();
    while sync.view().state != SyncState::Waiting {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never backed off: {:?}",
            sync.view().state
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.set(Fault::Pass);
    sync.trigger();
    drained(&d.db, Duration::from_secs(30)).await;
    task.abort();
    assert_all_received(&d.db, 5);
    assert_on_server(&server, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_report_does_not_hold_up_the_rest_and_says_why() {
    let server = TestServer::start().await;
    let url = server.url();
    let other = device(&server, &url, "Annan Enhet").await;
    let d = device(&server, &url, "Rut Refuserad").await;
    // The other device already sent a report under this id: the server refuses it from `d`.
    let (taken, _) = ready_report(&other.db, 99, &[]);
    let o = service(&other, None);
    let ot = o.start(&tokio::runtime::Handle::current());
    drained(&other.db, Duration::from_secs(20)).await;
    ot.abort();

    d.db.create_incident(
        taken,
        &Incident {
            during: "Rapport nummer 0 med ett lånat id".into(),
            ..Default::default()
        },
    )
    .unwrap();
    d.db.mark_incident_ready(taken).unwrap();
    let mut expected = HashMap::new();
    for n in 1..4 {
        let (id, shas) = ready_report(&d.db, n, &[5_000]);
        expected.insert(id, shas);
    }
    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    let start = std::time::Instant::now();
    loop {
        let c = d.db.queue_counts().unwrap();
        if c.refused == 1 && c.queued == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "stuck: {c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    let refused = d.db.incident(taken).unwrap().unwrap();
    assert_eq!(refused.status, Status::Queued);
    let why = refused.refusal.expect("the person is told why");
    assert!(why.contains("another device"), "{why}");
    for id in expected.keys() {
        assert_eq!(
            d.db.incident(*id).unwrap().unwrap().status,
            Status::Received
        );
    }
    let mine: Vec<_> = server
        .store
        .reports(&region(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.id != taken)
        .collect();
    assert_eq!(mine.len(), 3);
}

/// The child: syncs until killed.
#[test]
fn sync_child_process() {
    let (Ok(path), Ok(token)) = (std::env::var(CHILD_DB), std::env::var(CHILD_TOKEN)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = Arc::new(Db::open_keyed(Path::new(&path), Some(&KEY)).unwrap());
    let secrets = MemorySecrets::default();
    secrets.set(TOKEN_KEY, &token).unwrap();
    let d = Device {
        dir: tempfile::tempdir().unwrap(),
        db,
        secrets: Arc::new(secrets),
    };
    let sync = service(&d, None);
    rt.block_on(async {
        sync.start(&tokio::runtime::Handle::current());
        std::future::pending::<()>().await
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_sync_and_restarted_nothing_is_lost_or_doubled() {
    let server = TestServer::start().await;
    let d = device(&server, &server.url(), "Kill Killsson").await;
    let token = d.secrets.get(TOKEN_KEY).unwrap().unwrap();
    let mut expected = HashMap::new();
    for n in 0..40 {
        let files: Vec<usize> = if n % 2 == 0 { vec![150_000] } else { vec![] };
        let (id, shas) = ready_report(&d.db, n, &files);
        expected.insert(id, shas);
    }
    let path = d.db.path().to_path_buf();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let mut rounds = 0;
    while d.db.queue_counts().unwrap().queued > 0 && rounds < 40 {
        rounds += 1;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sync_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, &path)
            .env(CHILD_TOKEN, &token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..250))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // After every kill: the database opens and is whole.
        let check = Db::open_keyed(&path, Some(&KEY)).unwrap();
        let ok: String = check
            .read(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(ok, "ok");
    }
    assert!(
        rounds >= 3,
        "the kills happened during the sync ({rounds} rounds)"
    );
    // Whatever is left goes in one last, undisturbed run.
    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    drained(&d.db, Duration::from_secs(60)).await;
    task.abort();
    assert_all_received(&d.db, 40);
    assert_on_server(&server, &expected).await;
}

/// The region profile is fetched with its ETag; a newer one signed with the region's trusted
/// key is adopted; one unsigned, signed by a key the app does not trust, or jumping its
/// version is refused with a note saying why, and the one in use stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_profile_is_checked_with_its_etag_adopted_when_signed_and_newer_and_refused_otherwise(
) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("server.db");
    let clock: Arc<dyn varn_server::clock::Clock> = Arc::new(varn_server::clock::SystemClock);
    let embedded = Profile::embedded_default().unwrap();
    let key = test_region_key("sormland");
    let serve = |signed: SignedProfile, addr: Option<std::net::SocketAddr>| {
        TestServer::start_serving(database.clone(), clock.clone(), addr, vec![signed])
    };
    let server = serve(signed_for_tests(&embedded), None).await;
    let addr = server.running.addr;
    let d = device(&server, &server.url(), "Pia Profil").await;
    // The region's key, as if confirmed by its fingerprint when linking.
    d.db.learn_key("sormland", &key.public(), "rotation")
        .unwrap();
    let active = Arc::new(RwLock::new(ActiveProfile {
        profile: embedded.clone(),
        source: "embedded".into(),
        notes: vec![],
    }));

    // Unchanged: the ETag is remembered, and the server answers 304 to it.
    let sync = service(&d, Some(active.clone()));
    let task = sync.start(&tokio::runtime::Handle::current());
    let tag = wait_for(|| d.db.setting("profile_etag").unwrap()).await;
    let client = varn_app::link::enroll::client_for(&d.db, d.secrets.as_ref(), TOKEN_KEY).unwrap();
    let (_, served_tag) = client.profile(None).await.unwrap().unwrap();
    assert_eq!(Some(tag.clone()), served_tag);
    assert_eq!(
        client.profile(Some(&tag)).await.unwrap(),
        None,
        "304 Not Modified"
    );
    assert_eq!(active.read().unwrap().source, "embedded", "not newer");
    task.abort();
    server.stop().await;

    // Newer and signed with the trusted key: adopted, stored, shown.
    let mut newer = embedded.clone();
    newer.version += 1;
    let server = serve(signed_for_tests(&newer), Some(addr)).await;
    let task = sync.start(&tokio::runtime::Handle::current());
    wait_for(|| (active.read().unwrap().profile.version == newer.version).then_some(())).await;
    assert_eq!(active.read().unwrap().source, "server");
    let (stored, _) = d.db.stored_profile().unwrap().unwrap();
    let stored = SignedProfile::parse(&stored).unwrap();
    assert_eq!(stored.profile().unwrap().version, newer.version);
    assert_eq!(stored.verified_key().unwrap(), key.public());
    let adopted_tag = d.db.setting("profile_etag").unwrap();
    task.abort();
    server.stop().await;

    // What a server that is not the region's (or one whose profile was swapped) could serve.
    let mut next = newer.clone();
    next.version += 1;
    let guard = next.contacts.iter_mut().find(|c| c.id == "guard").unwrap();
    guard.number = Some("070-174 06 66".into());
    let mut jump = newer.clone();
    jump.version += 5000;
    let stranger = varn_core::signing::SecretKey::from_seed([0x66; 32]);
    let refusals = [
        (
            "unsigned",
            SignedProfile::unsigned(&next),
            "signatur".to_string(),
        ),
        (
            "unknown key",
            SignedProfile::sign(&next, &stranger, Vec::new()),
            stranger.public().fingerprint(),
        ),
        (
            "version jump",
            signed_for_tests(&jump),
            jump.version.to_string(),
        ),
    ];
    for (name, offered, reason) in refusals {
        let server = serve(offered, Some(addr)).await;
        let task = sync.start(&tokio::runtime::Handle::current());
        let note = wait_for(|| {
            active
                .read()
                .unwrap()
                .notes
                .iter()
                .find(|n| n.source == "server")
                .cloned()
        })
        .await;
        assert_eq!(note.kind, "refused", "{name}");
        assert!(note.detail.contains(&reason), "{name}: {}", note.detail);
        assert_eq!(
            active.read().unwrap().profile,
            newer,
            "{name}: the last good one stays"
        );
        assert_eq!(
            d.db.setting("profile_etag").unwrap(),
            adopted_tag,
            "{name}: not remembered"
        );
        task.abort();
        server.stop().await;
        active.write().unwrap().notes.clear();
    }
    // And after a restart of the app, the adopted one is still the one in use.
    let reloaded = varn_app::profiles::load(&d.db, d.dir.path(), embedded);
    assert_eq!(reloaded.profile, newer);
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Counts follow-up changes the app is told about.
#[derive(Default)]
struct FollowupSeen(std::sync::Mutex<Vec<(Uuid, String)>>);
impl Observer for FollowupSeen {
    fn event(&self, event: Event<'_>) {
        if let Event::FollowedUp { id, followup } = event {
            self.0
                .lock()
                .unwrap()
                .push((id, followup.state.as_str().to_string()));
        }
    }
}

/// The officer takes a received report and writes the person; the device learns both at its
/// next check and tells the person once per change; once closed it stops asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_regions_follow_up_reaches_the_device_once_per_change() {
    let server = TestServer::start().await;
    let url = server.url();
    let d = device(&server, &url, "Anna").await;
    let seen = Arc::new(FollowupSeen::default());
    let sync = SyncService::new(d.db.clone(), d.link(), seen.clone(), None, fast());
    let task = sync.start(&tokio::runtime::Handle::current());
    let (id, _) = ready_report(&d.db, 1, &[]);
    drained(&d.db, Duration::from_secs(20)).await;
    assert_eq!(d.db.awaiting_followup().unwrap(), vec![id]);
    assert_eq!(d.db.incident(id).unwrap().unwrap().followup, None);

    let officer = server
        .officer_client("hanna", "Hanna Holm", &region())
        .await;
    let post = |body: serde_json::Value| {
        let officer = officer.clone();
        let url = format!("{url}/dashboard/api/reports/{id}/followup");
        let origin = server.url();
        async move {
            let res = officer
                .post(url)
                .header("origin", origin)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    };
    post(serde_json::json!({ "state": "taken", "message": "Jag ringer dig i morgon. /Hanna" }))
        .await;
    let f = wait_for(|| d.db.incident(id).unwrap().unwrap().followup).await;
    assert_eq!(f.state, varn_core::wire::FollowupState::Taken);
    assert_eq!(f.by.as_deref(), Some("Hanna Holm"));
    assert_eq!(f.message, "Jag ringer dig i morgon. /Hanna");

    post(serde_json::json!({ "state": "closed", "note": "Klart." })).await;
    wait_for(|| {
        let f = d.db.incident(id).unwrap().unwrap().followup?;
        (f.state == varn_core::wire::FollowupState::Closed).then_some(())
    })
    .await;
    assert!(
        d.db.awaiting_followup().unwrap().is_empty(),
        "a closed report is not asked about again"
    );
    // Several ticks later, still two changes told: one each, never repeated.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let told: Vec<String> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(i, s)| {
            assert_eq!(*i, id);
            s.clone()
        })
        .collect();
    assert_eq!(told, ["taken", "closed"]);
    task.abort();
}

/// A report the region has deleted (its retention, after closing it while the device was away)
/// does not stop the device from learning about the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_the_region_deleted_does_not_hide_the_others_follow_up() {
    let server = TestServer::start().await;
    let url = server.url();
    let d = device(&server, &url, "Anna").await;
    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    let (older, _) = ready_report(&d.db, 1, &[]);
    let (newer, _) = ready_report(&d.db, 2, &[]);
    drained(&d.db, Duration::from_secs(20)).await;
    task.abort();

    // While the device is away: the newer is closed and deleted, the older taken.
    let officer = server
        .officer_client("hanna", "Hanna Holm", &region())
        .await;
    for (id, state) in [(newer, "closed"), (older, "taken")] {
        let res = officer
            .post(format!("{url}/dashboard/api/reports/{id}/followup"))
            .header("origin", &url)
            .json(&serde_json::json!({ "state": state }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    let purged = server
        .store
        .purge(varn_server::store::Cutoffs {
            reports: Some(chrono::Utc::now() + chrono::Duration::seconds(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(purged.reports, 1);

    let sync = service(&d, None);
    let task = sync.start(&tokio::runtime::Handle::current());
    let f = wait_for(|| d.db.incident(older).unwrap().unwrap().followup).await;
    assert_eq!(f.state, varn_core::wire::FollowupState::Taken);
    assert_eq!(
        d.db.incident(newer).unwrap().unwrap().followup,
        None,
        "the device keeps its copy"
    );
    task.abort();
}
