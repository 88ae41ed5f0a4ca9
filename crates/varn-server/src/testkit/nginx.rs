//! A real nginx (Debian's package) in front of a server, with the site the `.deb` ships
//! (`packaging/server/nginx/varn-server.conf`): only its ports, certificate paths and upstream
//! are changed, to a free loopback port, a throwaway certificate for `127.0.0.1` and the
//! server under test. Started by the test, stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The site as the package installs it.
pub const SITE: &str = include_str!("../../../../packaging/server/nginx/varn-server.conf");

/// A running nginx.
pub struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    /// Where its TLS port listens.
    pub addr: SocketAddr,
    /// The certificate it presents (PEM), for clients to trust.
    pub cert_pem: String,
}

/// `text` with `from` replaced by `to`, which must occur exactly `times` times: a changed
/// site file fails loudly here instead of testing something else.
fn replaced(text: &str, from: &str, to: &str, times: usize) -> String {
    assert_eq!(
        text.matches(from).count(),
        times,
        "the shipped nginx site no longer has {from:?} {times} time(s)"
    );
    text.replace(from, to)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn nginx_binary() -> PathBuf {
    let sbin = Path::new("/usr/sbin/nginx");
    if sbin.exists() {
        sbin.to_path_buf()
    } else {
        PathBuf::from("nginx")
    }
}

impl Nginx {
    /// Starts nginx with the shipped site in front of the server at `upstream`.
    pub fn start(upstream: SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("a certificate");
        let cert_pem = cert.cert.pem();
        std::fs::write(d.join("cert.pem"), &cert_pem).expect("write cert");
        std::fs::write(d.join("key.pem"), cert.signing_key.serialize_pem()).expect("write key");
        let (port, plain_port) = (free_port(), free_port());
        let mut site = replaced(
            SITE,
            "server 127.0.0.1:8080;",
            &format!("server {upstream};"),
            1,
        );
        site = replaced(
            &site,
            "listen 443 ssl;",
            &format!("listen 127.0.0.1:{port} ssl;"),
            1,
        );
        site = replaced(
            &site,
            "listen 80;",
            &format!("listen 127.0.0.1:{plain_port};"),
            1,
        );
        site = replaced(&site, "listen [::]:443 ssl;", "", 1);
        site = replaced(&site, "listen [::]:80;", "", 1);
        site = replaced(
            &site,
            "/etc/varn-server/tls/fullchain.pem",
            &d.join("cert.pem").display().to_string(),
            1,
        );
        site = replaced(
            &site,
            "/etc/varn-server/tls/privkey.pem",
            &d.join("key.pem").display().to_string(),
            1,
        );
        std::fs::write(d.join("varn-server.conf"), site).expect("write site");
        // The main file as the README asks a region to set it (connections, open files).
        // /proc/self belongs to the process's user: as root, the workers run as root too, so
        // that they can write their temporary files in this directory.
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        let main = format!(
            "{user}worker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             worker_rlimit_nofile 65536;\nevents {{ worker_connections 8192; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/varn-server.conf;\n}}\n",
            user = if root { "user root root;\n" } else { "" },
            d = d.display()
        );
        std::fs::write(d.join("nginx.conf"), main).expect("write nginx.conf");
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx (Debian's package: scripts/deps.sh installs it)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let mut n = Nginx {
            child,
            dir,
            addr,
            cert_pem,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = n.child.try_wait() {
                panic!("nginx stopped at start ({status}):\n{}", n.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    }

    /// Its base URL, `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Its error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM: the master stops its workers too (a KILL would leave them running).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
