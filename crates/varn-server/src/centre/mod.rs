//! The alarm centre: every real alarm, cancel, duress, escalation and missed check-out of a
//! region goes to the region's 24/7 alarm centre as a SIA DC-09 message over TCP
//! (`[[alarm_centre]]` in the config), and a supervision message goes when the link is quiet,
//! so the centre notices a dead link.
//!
//! What to send is read from the alarms' own timelines: each entry is written once, in the
//! same transaction as the change it records, so the timeline is the outbox. An entry counts
//! as sent once the centre has answered it (`centre_sent`, both backends); until then it is
//! sent again after a NAK, a timeout or a lost connection, with backoff, in order. One
//! instance at a time sends for a region (a lease in the database), so several instances on
//! PostgreSQL send each event once. An ACK goes on the alarm's timeline (*mottaget av
//! larmcentralen*) and into the device's receipt; a DUH, or a NAK five times over, goes on the
//! timeline as refused and shows on the dashboard.

pub mod dc09;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::store::{CentreEvent, StoreError};
use crate::AppState;
use dc09::{Answer, Content, Key, Route};

/// How long one instance holds the right to send for a region before another may take it.
pub const LEASE: Duration = Duration::from_secs(15);
/// A NAK this many times over for one event: the centre refuses it.
pub const MAX_NAKS: u32 = 5;
/// The longest wait between tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What is done with drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drills {
    /// Not sent at all (the default).
    Skip,
    /// Sent as a manual test (RX), never as an alarm.
    Test,
}

/// One region's alarm centre, resolved from the config.
#[derive(Debug, Clone)]
pub struct Centre {
    /// The region whose events go there.
    pub region: String,
    /// Host and port of the receiver.
    pub addr: String,
    /// Receiver, line and account.
    pub route: Route,
    /// The AES key (from the environment only), when the centre encrypts.
    pub key: Option<Key>,
    /// A supervision message after this long without traffic.
    pub supervision: Duration,
    /// How long to wait for an answer.
    pub timeout: Duration,
    /// Drills.
    pub drills: Drills,
}

/// The SIA code, zone and text of a timeline entry, or `None` when it is not for the centre
/// (a drill's cancel, a drill when drills are skipped). One table for every backend:
/// an alarm is PA (panic), a missed check-out QA (emergency, not raised by hand), a cancel
/// PR (panic restoral), a duress cancel HA (hold-up: silent, under duress), an escalation PA
/// again in zone 2 (nobody has acknowledged), a drill RX (manual test).
pub fn content_of(e: &CentreEvent, drills: Drills) -> Option<Content> {
    let who = format!("id {}", e.device_id.simple());
    let text = |what: &str| {
        if e.place.is_empty() {
            format!("{who} {what}")
        } else {
            format!("{who} {what} {}", e.place)
        }
    };
    if e.drill {
        return (drills == Drills::Test && e.kind == "received").then(|| Content::Event {
            code: "RX",
            zone: 1,
            text: text("testlarm"),
        });
    }
    let (code, zone, what) = match e.kind.as_str() {
        "received" => ("PA", 1, "larm"),
        "checkin_overdue" => ("QA", 1, "missad utcheckning"),
        "cancelled" => ("PR", 1, "avbrutet"),
        "duress" => ("HA", 1, "avbrutet under tvang"),
        "escalated" => ("PA", 2, "ingen har kvitterat"),
        _ => return None,
    };
    Some(Content::Event {
        code,
        zone,
        text: text(what),
    })
}

/// Runs a sender for each configured centre, until the server shuts down.
pub async fn run(state: AppState, centres: Vec<Centre>) {
    for c in centres {
        tokio::spawn(run_one(state.clone(), c));
    }
}

struct Link {
    stream: Option<TcpStream>,
    seq: u16,
    last_traffic: tokio::time::Instant,
    up: Option<bool>,
}

impl Link {
    fn next_seq(&mut self) -> u16 {
        self.seq = if self.seq >= 9999 { 1 } else { self.seq + 1 };
        self.seq
    }
}

/// Sends one message and reads the answer; the connection is kept for the next.
async fn exchange(
    c: &Centre,
    link: &mut Link,
    content: &Content,
    now: DateTime<Utc>,
) -> Result<Answer, String> {
    if link.stream.is_none() {
        let s = tokio::time::timeout(c.timeout, TcpStream::connect(&c.addr))
            .await
            .map_err(|_| format!("no connection to {} within {:?}", c.addr, c.timeout))?
            .map_err(|e| format!("no connection to {}: {e}", c.addr))?;
        s.set_nodelay(true).ok();
        link.stream = Some(s);
    }
    let seq = link.next_seq();
    let frame = dc09::encode(&c.route, seq, content, now, c.key.as_ref());
    let stream = link.stream.as_mut().expect("connected above");
    let answer = async {
        stream.write_all(&frame).await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1024];
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the centre closed the connection".to_string());
        }
        dc09::parse_answer(&buf[..n]).ok_or_else(|| "an answer that is not DC-09".to_string())
    };
    match tokio::time::timeout(c.timeout, answer).await {
        Ok(Ok(a)) => {
            link.last_traffic = tokio::time::Instant::now();
            Ok(a)
        }
        Ok(Err(e)) => {
            link.stream = None;
            Err(e)
        }
        Err(_) => {
            link.stream = None;
            Err(format!("no answer within {:?}", c.timeout))
        }
    }
}

async fn set_link(state: &AppState, c: &Centre, link: &mut Link, up: bool) {
    if link.up == Some(up) {
        return;
    }
    link.up = Some(up);
    if up {
        tracing::info!(region = %c.region, "alarm centre: the link answers");
    } else {
        tracing::warn!(region = %c.region, centre = %c.addr, "alarm centre: the link does not answer");
    }
    if let Err(e) = state.store().centre_link(&c.region, up, state.now()).await {
        tracing::error!("alarm centre: recording the link's state failed: {e}");
    }
}

async fn run_one(state: AppState, c: Centre) {
    let instance = Uuid::now_v7();
    let since = loop {
        match state.store().centre_since(&c.region, state.now()).await {
            Ok(t) => break t,
            Err(e) => {
                tracing::error!("alarm centre: the database did not answer: {e}");
                if wait(&state, Duration::from_secs(2)).await {
                    return;
                }
            }
        }
    };
    let mut changes = state.subscribe();
    let mut link = Link {
        stream: None,
        seq: 0,
        last_traffic: tokio::time::Instant::now(),
        up: None,
    };
    let mut naks: std::collections::HashMap<i64, u32> = Default::default();
    let mut backoff = varn_core::backoff::Backoff::new(Duration::from_millis(500), MAX_BACKOFF);
    loop {
        let now = state.now();
        let held = state
            .store()
            .centre_lease(
                &c.region,
                instance,
                now,
                now + chrono::Duration::from_std(LEASE).unwrap_or_default(),
            )
            .await
            .unwrap_or(false);
        if !held {
            link.stream = None;
            if wait(&state, LEASE / 3).await {
                return;
            }
            continue;
        }
        let pending = match state.store().centre_pending(&c.region, since, 20).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("alarm centre: reading what to send failed: {e}");
                if wait(&state, Duration::from_secs(1)).await {
                    return;
                }
                continue;
            }
        };
        let mut failed = false;
        for e in &pending {
            let Some(content) = content_of(e, c.drills) else {
                record(&state, &c, e, "SKIP", None).await;
                continue;
            };
            match exchange(&c, &mut link, &content, state.now()).await {
                Ok(Answer::Ack) | Ok(Answer::Rsp) => {
                    set_link(&state, &c, &mut link, true).await;
                    record(&state, &c, e, "ACK", Some(true)).await;
                    naks.remove(&e.seq);
                    backoff.reset();
                }
                Ok(Answer::Duh) => {
                    set_link(&state, &c, &mut link, true).await;
                    tracing::warn!(region = %c.region, event = e.seq, "alarm centre: DUH (not understood)");
                    record(&state, &c, e, "DUH", Some(false)).await;
                }
                Ok(Answer::Nak) => {
                    set_link(&state, &c, &mut link, true).await;
                    let n = naks.entry(e.seq).or_default();
                    *n += 1;
                    tracing::warn!(region = %c.region, event = e.seq, naks = *n, "alarm centre: NAK");
                    if *n >= MAX_NAKS {
                        record(&state, &c, e, "NAK", Some(false)).await;
                        naks.remove(&e.seq);
                    } else {
                        failed = true;
                        break;
                    }
                }
                Err(why) => {
                    tracing::warn!(region = %c.region, "alarm centre: {why}");
                    set_link(&state, &c, &mut link, false).await;
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            if wait(&state, backoff.next_delay(rand::random())).await {
                return;
            }
            continue;
        }
        if pending.is_empty() && link.last_traffic.elapsed() >= c.supervision {
            match exchange(&c, &mut link, &Content::Null, state.now()).await {
                Ok(_) => set_link(&state, &c, &mut link, true).await,
                Err(why) => {
                    tracing::warn!(region = %c.region, "alarm centre supervision: {why}");
                    set_link(&state, &c, &mut link, false).await;
                    // Tried again at the next interval; the timer starts over.
                    link.last_traffic = tokio::time::Instant::now();
                }
            }
        }
        if !pending.is_empty() {
            continue;
        }
        // Wake for the next change, the supervision interval, or the lease's renewal.
        let quiet = c
            .supervision
            .saturating_sub(link.last_traffic.elapsed())
            .min(LEASE / 3);
        tokio::select! {
            _ = changes.recv() => {}
            _ = tokio::time::sleep(quiet) => {}
            _ = state.shutting_down() => return,
        }
    }
}

/// Records the centre's answer to an event (or that it was not for the centre).
async fn record(state: &AppState, c: &Centre, e: &CentreEvent, answer: &str, taken: Option<bool>) {
    match state
        .store()
        .centre_record(&c.region, e.seq, e.alarm_id, answer, taken, state.now())
        .await
    {
        Ok(_) => {}
        Err(StoreError::NotFound) => {}
        Err(err) => tracing::error!("alarm centre: recording the answer failed: {err}"),
    }
}

/// Waits; true when the server shuts down meanwhile.
async fn wait(state: &AppState, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = state.shutting_down() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, drill: bool) -> CentreEvent {
        CentreEvent {
            seq: 1,
            alarm_id: Uuid::nil(),
            kind: kind.into(),
            drill,
            device_id: Uuid::nil(),
            place: "Torget".into(),
        }
    }

    #[test]
    fn each_event_has_its_sia_code_and_drills_are_never_alarms() {
        let code =
            |kind: &str, drill: bool, drills: Drills| match content_of(&event(kind, drill), drills)
            {
                Some(Content::Event { code, zone, .. }) => Some((code, zone)),
                _ => None,
            };
        assert_eq!(code("received", false, Drills::Skip), Some(("PA", 1)));
        assert_eq!(
            code("checkin_overdue", false, Drills::Skip),
            Some(("QA", 1))
        );
        assert_eq!(code("cancelled", false, Drills::Skip), Some(("PR", 1)));
        assert_eq!(code("duress", false, Drills::Skip), Some(("HA", 1)));
        assert_eq!(code("escalated", false, Drills::Skip), Some(("PA", 2)));
        assert_eq!(code("note", false, Drills::Test), None);
        assert_eq!(code("acknowledged", false, Drills::Test), None);
        assert_eq!(code("received", true, Drills::Skip), None);
        assert_eq!(code("received", true, Drills::Test), Some(("RX", 1)));
        assert_eq!(code("cancelled", true, Drills::Test), None);
    }
}
