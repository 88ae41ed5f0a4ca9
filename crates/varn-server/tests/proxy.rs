//! The server behind the region's TLS proxy: a real nginx (Debian's package) with the site
//! the `.deb` ships, started by each test on a free port with a throwaway certificate, in
//! front of the real server on port 0 that trusts it (`trusted_proxies`) and knows its public
//! address (`public_url`). Clients come from their own loopback addresses, so that nginx sees
//! each as the machine it stands for; the attacker and the person share one where it matters.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use varn_server::front::{ForwardedHeader, Front, PublicUrl, TrustedProxies};
use varn_server::limits::Limits;
use varn_server::testkit::attack::{
    alarms_go_through, enough_files, flood_device, flood_logins, hold_half_open, ip, officer_login,
    while_attacking, wrong_tokens, Target,
};
use varn_server::testkit::nginx::Nginx;
use varn_server::testkit::TestServer;

/// The front of a server with nginx on this machine in front of it.
fn behind_loopback_proxy() -> Front {
    Front {
        trusted_proxies: TrustedProxies::parse(
            &["127.0.0.1/32".into(), "::1/128".into()],
            ForwardedHeader::XForwardedFor,
        )
        .unwrap(),
        public_url: Some(PublicUrl::parse("https://127.0.0.1").unwrap()),
    }
}

/// A server behind nginx, and nginx.
async fn server_behind_nginx() -> (TestServer, Nginx) {
    let s = TestServer::start_behind(behind_loopback_proxy()).await;
    let nginx = Nginx::start(s.running.addr);
    (s, nginx)
}

/// Two clients behind the proxy are two clients: one's wrong tokens get it refused, the
/// other is not, and a valid token from the first one's own address is still admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_behind_nginx_are_counted_apart() {
    let (s, nginx) = server_behind_nginx().await;
    let d = s.device("Anna Andersson").await;
    let target = Target::through(&nginx);
    let (a, b) = (ip("127.0.0.2"), ip("127.0.0.3"));
    let limit = Limits::default().failures.bad_tokens_per_address;
    let answers = wrong_tokens(&target, a, limit + 10, 10).await;
    assert_eq!(answers.get(&401), Some(&limit), "{answers:?}");
    assert_eq!(answers.get(&429), Some(&10), "{answers:?}");
    assert_eq!(
        wrong_tokens(&target, b, 1, 1).await.get(&401),
        Some(&1),
        "the other client behind the same proxy is not refused"
    );
    let res = target
        .client_from(a)
        .get(format!("{}/v1/me", target.url))
        .bearer_auth(&d.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a valid token from A's address"
    );
    // The proxy's own address was never counted: a wrong token straight from it (a health
    // check on the proxy's machine, say) is told what is wrong.
    let direct = Target::direct(&s.url());
    assert_eq!(
        wrong_tokens(&direct, ip("127.0.0.1"), 1, 1).await.get(&401),
        Some(&1)
    );
    drop(nginx);
}

/// Someone not trusted as a proxy who sends forwarded headers is counted by its own address:
/// a made-up client per request changes nothing.
#[tokio::test]
async fn forwarded_headers_from_anyone_else_are_ignored() {
    let s = TestServer::start_behind(behind_loopback_proxy()).await;
    let c = Target::direct(&s.url()).client_from(ip("127.0.0.5"));
    let limit = Limits::default().failures.bad_tokens_per_address;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..limit + 5 {
        let res = c
            .get(format!("{}/v1/me", s.url()))
            .bearer_auth("guess")
            .header("x-forwarded-for", format!("198.51.100.{}", i % 250))
            .send()
            .await
            .unwrap();
        *statuses.entry(res.status().as_u16()).or_default() += 1;
    }
    assert_eq!(statuses.get(&401), Some(&limit), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&5), "{statuses:?}");
}

/// Behind the TLS proxy the session cookie is `__Host-` and `Secure`, HSTS is sent once,
/// and a state change from another origin than the public address is refused.
#[tokio::test]
async fn behind_nginx_cookies_are_secure_and_hsts_is_sent() {
    let (s, nginx) = server_behind_nginx().await;
    s.add_officer("hanna", "Hanna", "sormland").await;
    let target = Target::through(&nginx);
    let browser = target.browser_from(ip("127.0.0.2"));
    let res = browser
        .post(format!("{}/dashboard/api/login", target.url))
        .header("origin", "https://127.0.0.1")
        .json(&json!({ "username": "hanna", "password": varn_server::testkit::OFFICER_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    for name in ["__Host-varn_session=", "__Host-varn_known="] {
        let c = cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(
            c.contains("; Secure") && c.contains("HttpOnly") && c.contains("Path=/"),
            "{c}"
        );
    }
    let hsts: Vec<_> = res
        .headers()
        .get_all("strict-transport-security")
        .iter()
        .collect();
    assert_eq!(hsts.len(), 1, "once: {hsts:?}");
    let me = browser
        .get(format!("{}/dashboard/api/me", target.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "the secure cookie works through the proxy"
    );
    let forged = browser
        .post(format!("{}/dashboard/api/logout", target.url))
        .header("origin", "https://varn.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// Every attack from the address the person shares with the attacker, through nginx: 300
/// wrong tokens, another device flooding, 1 000 half-open connections and 80 parallel wrong
/// logins for the officer's username. After each, the person's alarms all go through within
/// 250 ms (p95), and the officer's browser signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx_no_attack_from_the_persons_address_keeps_an_alarm_out() {
    enough_files();
    let (s, nginx) = server_behind_nginx().await;
    s.add_officer("hanna", "Hanna", "sormland").await;
    // One person per attack: 20 alarms each, within a real device's quota (30 in 10 min).
    let mut people = Vec::new();
    for name in ["Anna Andersson", "Bo Berg", "Cecilia Ceder", "David Dahl"] {
        people.push(s.device(name).await.token.clone());
    }
    let flooder = s.device("Flödaren").await;
    let target = Target::through(&nginx);
    let shared = ip("127.0.0.2");
    let officer = target.browser_from(shared);
    assert_eq!(officer_login(&officer, &target.url, "hanna").await.0, 200);

    let answers = wrong_tokens(&target, shared, 300, 30).await;
    assert!(answers.get(&429).is_some_and(|n| *n > 0), "{answers:?}");
    alarms_go_through(&target, shared, &people[0], "after 300 wrong tokens").await;

    while_attacking(
        |stop| flood_device(target.clone(), flooder.token.clone(), shared, 32, 90, stop),
        Duration::from_secs(1),
        alarms_go_through(&target, shared, &people[1], "another device flooding"),
    )
    .await;
    while_attacking(
        |stop| hold_half_open(nginx.addr, shared, 1000, stop),
        Duration::from_secs(2),
        alarms_go_through(&target, shared, &people[2], "1 000 half-open connections"),
    )
    .await;
    let (answers, (status, took)) = while_attacking(
        |stop| flood_logins(target.clone(), vec![shared], "hanna".into(), 80, stop),
        Duration::from_secs(1),
        async {
            alarms_go_through(&target, shared, &people[3], "80 parallel wrong logins").await;
            officer_login(&officer, &target.url, "hanna").await
        },
    )
    .await;
    assert!(
        !answers.contains_key(&0) && !answers.contains_key(&500),
        "{answers:?}"
    );
    assert_eq!(
        status, 200,
        "the officer's browser signs in during the flood"
    );
    assert!(took < Duration::from_secs(3), "after {took:?}");
    drop(nginx);
}
