//! Fills a data directory with N incident reports, through the same keychain path the app
//! uses (for the start-up benchmark: `scripts/bench_start.py --incidents 1000`).
//!
//!     cargo run --release --example populate -- DATA_DIR N

use uuid::Uuid;
use varn_app::os::secrets::Keychain;
use varn_app::vault::{self, Opening};
use varn_core::incident::Incident;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(n)) = (
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: populate DATA_DIR N");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    let db = match vault::open(&dir, &Keychain) {
        Ok(Opening::Open(db)) => db,
        Ok(Opening::NeedPassphrase { reason, .. }) => {
            eprintln!("populate needs a keychain (Secret Service): {reason}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("populate: {e}");
            std::process::exit(1);
        }
    };
    for i in 0..n {
        let r = Incident {
            place: format!("Plats {i}"),
            during: "Ett hotfullt samtal om nästa möte. ".repeat(30),
            ..Default::default()
        };
        db.create_incident(Uuid::now_v7(), &r).expect("create");
    }
    println!("{n} reports in {}", dir.display());
}
