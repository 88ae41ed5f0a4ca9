//! A throwaway PostgreSQL for tests: one cluster per test process, made with Debian's
//! `postgresql` package (`initdb`, `pg_ctl`) in a temporary directory, listening on a
//! loopback port only, run as an unprivileged user (`postgres` when the tests run as root).
//! Each test gets a database of its own. A watchdog stops the cluster and removes its
//! directory when the test process ends, however it ends. Tests run it with `fsync=off`
//! (`VARN_PG_FSYNC=on` for benchmarks).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use tokio_postgres::NoTls;

/// The running cluster.
pub struct Cluster {
    /// Its loopback port.
    pub port: u16,
    /// Its data directory (removed when the process ends).
    pub dir: PathBuf,
    /// Where `initdb`, `pg_ctl` and `pg_dump` are.
    pub bin: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The role the server runs as: it owns its database and is no superuser.
pub const SERVER_ROLE: &str = "varn_server";

/// The superuser the cluster is made with (trust authentication, loopback only).
pub const USER: &str = "varn";

/// Where PostgreSQL's programs are: `VARN_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
pub fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("VARN_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| {
            format!("PostgreSQL is not installed (/usr/lib/postgresql: {e}); run scripts/deps.sh")
        })?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin; run scripts/deps.sh".into())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as `postgres` when we are root (initdb refuses root).
fn pg_command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A cluster of its own, beside the shared one: with `tls` (certificate chain and key, PEM)
/// it takes TLS connections too. Stopped and removed when the process ends.
pub fn start_cluster(tls: Option<(&str, &str)>) -> Result<Cluster, String> {
    let bin = bin_dir()?;
    let root = running_as_root();
    let dir = std::env::temp_dir().join(format!(
        "varn-pg-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:").arg(&dir);
                c
            },
            "chown of the PostgreSQL test directory",
        )?;
    }
    // The watchdog first, so the directory goes even if the start fails half-way.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {runas}{pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        runas = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = bin.join("pg_ctl").display(),
        data = dir.join("data").display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("PostgreSQL watchdog: {e}"))?;
    let mut initdb = pg_command(&bin, "initdb", root);
    initdb
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"])
        .arg("--locale=C.UTF-8");
    run(initdb, "initdb")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("free port: {e}"))?
        .port();
    // Tests skip fsync (a throwaway cluster); the benchmark turns it on (`VARN_PG_FSYNC=on`)
    // to compare fairly with SQLite's synchronous=FULL.
    let fsync = if std::env::var("VARN_PG_FSYNC").is_ok_and(|v| v == "on") {
        "on"
    } else {
        "off"
    };
    let mut extra = String::new();
    if let Some((cert, key)) = tls {
        let data = dir.join("data");
        write_owned(&data.join("server.crt"), cert, root)?;
        write_owned(&data.join("server.key"), key, root)?;
        extra = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
    }
    let mut pg_ctl = pg_command(&bin, "pg_ctl", root);
    pg_ctl
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync={fsync}{extra}",
            dir.display()
        ))
        .arg("start");
    run(pg_ctl, "pg_ctl start").map_err(|e| {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        format!("{e}\n{log}")
    })?;
    Ok(Cluster { port, dir, bin })
}

/// Writes a file only its owner can read, owned by `postgres` when we are root.
fn write_owned(path: &Path, text: &str, root: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if root {
        let mut c = Command::new("chown");
        c.arg("postgres:").arg(path);
        run(c, "chown of a TLS file")?;
    }
    Ok(())
}

/// The cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(|| start_cluster(None)) {
        Ok(c) => c,
        Err(e) => panic!("throwaway PostgreSQL did not start: {e}"),
    }
}

impl Cluster {
    /// The URL of database `name`, as the superuser.
    pub fn url(&self, name: &str) -> String {
        self.url_as(USER, name)
    }

    fn url_as(&self, user: &str, name: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database owned by [`SERVER_ROLE`], as a region would give the server
    /// (not a superuser); returns its URL as that role.
    pub async fn fresh_database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (client, conn) = tokio_postgres::connect(&self.url("postgres"), NoTls)
            .await
            .expect("connect to the test cluster");
        let task = tokio::spawn(conn);
        // Once per cluster; tests that race here find it made.
        client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {SERVER_ROLE} LOGIN;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ))
            .await
            .expect("the server's role");
        client
            .batch_execute(&format!("CREATE DATABASE {name} OWNER {SERVER_ROLE}"))
            .await
            .expect("create a test database");
        drop(client);
        let _ = task.await;
        self.url_as(SERVER_ROLE, &name)
    }

    /// Everything stored in database `url` as text (`pg_dump`), to check what is kept.
    pub fn dump(&self, url: &str) -> Vec<u8> {
        let out = Command::new(self.bin.join("pg_dump"))
            .args(["--data-only", "--no-owner", "-d", url])
            .output()
            .expect("pg_dump");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}
