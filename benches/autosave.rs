//! Autosave benchmark: the latency of saving an edit (durable, encrypted, the same call the
//! editor makes through `save_incident`) with 1 000 reports already in the database.
//!
//!     cargo bench --bench autosave

use std::time::{Duration, Instant};

use uuid::Uuid;
use varn_app::storage::Db;
use varn_core::incident::Incident;
use varn_core::wire::IncidentKind;

fn report(i: usize) -> Incident {
    Incident {
        kind: Some(IncidentKind::Phone),
        started_at: "2026-11-24T18:05".into(),
        place: "Kommunhuset, plan 3".into(),
        before: "Ett samtal till växeln som kopplades vidare. ".repeat(10),
        during: format!("Personen hotade att komma till nästa möte (rapport {i}). ").repeat(20),
        actions: "Antecknade samtalet, informerade partiet och polisanmälde. ".repeat(5),
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open_keyed(&dir.path().join("varn.db"), Some(&[9u8; 32])).expect("database");
    for i in 0..1000 {
        db.create_incident(Uuid::now_v7(), &report(i))
            .expect("create");
    }
    let target = Uuid::now_v7();
    let mut r = report(0);
    db.create_incident(target, &r).expect("create");
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        r.during.push_str(&format!(" {i}"));
        let t = Instant::now();
        db.save_incident(target, &r).expect("save");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "autosave with 1 000 reports (encrypted, synchronous=FULL): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    );
}
