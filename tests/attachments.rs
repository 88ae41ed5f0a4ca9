//! Attachments from real files: a 200 MB file is streamed into the encrypted database (never
//! held in memory whole), a 0-byte file works, and a file that is gone gives a clear error.
//! In its own test binary so the process's peak memory is this test's alone.

use std::io::Write;

use sha2::{Digest, Sha256};
use uuid::Uuid;
use varn_app::storage::{AttachError, Db};
use varn_core::incident::Incident;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn big_empty_and_vanished_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_keyed(&dir.path().join("varn.db"), Some(&[1u8; 32])).unwrap();
    let id = Uuid::now_v7();
    db.create_incident(id, &Incident::default()).unwrap();

    // 200 MB, written in pieces so the test itself never holds it either.
    let big = dir.path().join("video.mp4");
    let mut hasher = Sha256::new();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 249) as u8).collect();
        for _ in 0..200 {
            f.write_all(&block).unwrap();
            hasher.update(&block);
        }
    }
    let expected = hex::encode(hasher.finalize());
    let before = peak_rss_kib();
    let f = std::fs::File::open(&big).unwrap();
    let size = f.metadata().unwrap().len();
    let info = db
        .add_attachment(
            id,
            "video.mp4",
            "video/mp4",
            size,
            std::io::BufReader::new(f),
        )
        .unwrap();
    let grew_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    assert_eq!(info.sha256, expected);
    assert_eq!(info.size, 200 * 1024 * 1024);
    assert!(
        grew_mib < 64,
        "peak memory grew by {grew_mib} MiB while copying 200 MB: not streamed"
    );

    // Reading it back streams too, and matches.
    let mut h = Sha256::new();
    struct HashWriter<'a>(&'a mut Sha256);
    impl Write for HashWriter<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    db.read_attachment(info.id, HashWriter(&mut h)).unwrap();
    assert_eq!(hex::encode(h.finalize()), expected);

    // A 0-byte file.
    let empty = dir.path().join("tom.txt");
    std::fs::write(&empty, b"").unwrap();
    let info = db
        .add_attachment(
            id,
            "tom.txt",
            "text/plain",
            0,
            std::fs::File::open(&empty).unwrap(),
        )
        .unwrap();
    assert_eq!(info.size, 0);

    // A file that is gone by the time it is opened: the error the command turns into
    // "file_unreadable"; nothing is added.
    let gone = dir.path().join("borta.jpg");
    let opened = std::fs::File::open(&gone).map_err(|e| AttachError::Unreadable(e.to_string()));
    assert!(matches!(opened, Err(AttachError::Unreadable(_))));
    assert_eq!(db.incident(id).unwrap().unwrap().attachments.len(), 2);
}
