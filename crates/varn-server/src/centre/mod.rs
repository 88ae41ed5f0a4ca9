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

use crate::store::{CentreEvent, ReceiverState, StoreError};
use crate::AppState;
use dc09::{Answer, Content, Key, Route};

/// How long one instance holds the right to send for a region before another may take it.
pub const LEASE: Duration = Duration::from_secs(15);
/// A NAK this many times over for one event: the centre refuses it.
pub const MAX_NAKS: u32 = 5;
/// The longest wait between tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest answer read (a DC-09 answer is well under this).
const MAX_ANSWER: usize = 1024;

/// How long a link may be quiet before a supervision message goes: half the supervision
/// interval, so two go in every interval.
pub fn supervision_gap(interval: Duration) -> Duration {
    interval / 2
}

/// The longest a dead receiver can go unnoticed: a quiet half interval, then the failover
/// time for the answer that does not come. The config keeps it within one interval.
pub fn longest_unnoticed(interval: Duration, failover: Duration) -> Duration {
    supervision_gap(interval) + failover
}

/// What is done with drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drills {
    /// Not sent at all (the default).
    Skip,
    /// Sent as a manual test (RX), never as an alarm.
    Test,
}

/// One receiver of the centre: where it listens and the account it knows the region by.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Its name in logs and receipts: *primär*, *reserv 1*, …
    pub name: String,
    /// Host and port.
    pub addr: String,
    /// Receiver, line and account.
    pub route: Route,
    /// The AES key (from a file or the environment only), when the account encrypts.
    pub key: Option<Key>,
    /// The key that takes over at a set time (DC-09's key change): messages sent from then
    /// on use it; what waits in the outbox is sent with it, so nothing is lost.
    pub next_key: Option<(Key, DateTime<Utc>)>,
}

impl Receiver {
    /// The key to use at `now`.
    pub fn key_at(&self, now: DateTime<Utc>) -> Option<&Key> {
        match &self.next_key {
            Some((k, from)) if now >= *from => Some(k),
            _ => self.key.as_ref(),
        }
    }
}

/// One region's alarm centre, resolved from the config.
#[derive(Debug, Clone)]
pub struct Centre {
    /// The region whose events go there.
    pub region: String,
    /// Its receivers in order: the primary first, then the backups.
    pub receivers: Vec<Receiver>,
    /// The supervision interval: a supervision message goes after half of it without
    /// traffic, so two go in every interval.
    pub supervision: Duration,
    /// How long to wait for a receiver's answer before the message goes to the next.
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
    let text = |what: &str| format!("id {} {what}", e.device_id.simple());
    if e.drill {
        return (drills == Drills::Test && e.kind == "received").then(|| Content::Event {
            code: "RX",
            zone: 1,
            text: text("testlarm"),
            place: e.place.clone(),
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
        place: e.place.clone(),
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
}

impl Link {
    fn new() -> Link {
        Link {
            stream: None,
            seq: 0,
            last_traffic: tokio::time::Instant::now(),
        }
    }

    fn next_seq(&mut self) -> u16 {
        self.seq = if self.seq >= 9999 { 1 } else { self.seq + 1 };
        self.seq
    }
}

/// Why an exchange failed, and the connection of one that timed out, on which the receiver
/// may still answer late.
struct Failed {
    why: String,
    late: Option<(TcpStream, u16)>,
}

impl From<String> for Failed {
    fn from(why: String) -> Failed {
        Failed { why, late: None }
    }
}

/// Reads one answer frame from `stream`, to its end (a frame may come in pieces).
async fn read_frame(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    while !buf.contains(&dc09::FRAME_END) {
        if buf.len() > MAX_ANSWER {
            return Err("an answer longer than any DC-09 frame".to_string());
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the centre closed the connection".to_string());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = buf.iter().position(|b| *b == dc09::FRAME_END).unwrap_or(0);
    if end + 1 != buf.len() {
        return Err("more than one answer to one message".to_string());
    }
    Ok(buf)
}

/// Sends one message to receiver `r` and reads its answer; the connection is kept for the
/// next. An answer that is not the earned one for this message is an error (and the
/// connection is dropped, so nothing late is read as the next answer).
async fn exchange(
    r: &Receiver,
    timeout: Duration,
    link: &mut Link,
    content: &Content,
    now: DateTime<Utc>,
) -> Result<Answer, Failed> {
    if link.stream.is_none() {
        let s = tokio::time::timeout(timeout, TcpStream::connect(&r.addr))
            .await
            .map_err(|_| format!("no connection to {} within {timeout:?}", r.addr))?
            .map_err(|e| format!("no connection to {}: {e}", r.addr))?;
        s.set_nodelay(true).ok();
        link.stream = Some(s);
    }
    let seq = link.next_seq();
    let key = r.key_at(now);
    let frame = dc09::encode(&r.route, seq, content, now, key);
    let sent = dc09::Sent {
        route: &r.route,
        seq,
        at: now,
        key,
    };
    let stream = link.stream.as_mut().expect("connected above");
    let answer = async {
        stream.write_all(&frame).await.map_err(|e| e.to_string())?;
        let buf = read_frame(stream).await?;
        dc09::judge(&buf, &sent).map_err(|why| format!("an answer not taken ({why})"))
    };
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(a)) => {
            link.last_traffic = tokio::time::Instant::now();
            Ok(a)
        }
        Ok(Err(e)) => {
            link.stream = None;
            Err(e.into())
        }
        Err(_) => Err(Failed {
            why: format!("no answer within {timeout:?}"),
            late: link.stream.take().map(|s| (s, seq)),
        }),
    }
}

/// How long a receiver that did not answer in time is still listened to, for the note.
pub const LATE_WAIT: Duration = Duration::from_secs(60);

/// After receiver `r` did not answer event `e` in time (it went on to the next receiver):
/// listens a while longer on its connection, and if the earned ACK comes, notes on the
/// alarm's timeline that `r` answered late. Nothing is sent again for it: the event counts
/// as delivered once, by whichever receiver's ACK was read in time.
async fn late_answer(
    state: AppState,
    r: Receiver,
    e: CentreEvent,
    region: String,
    mut stream: TcpStream,
    seq: u16,
    at: DateTime<Utc>,
) {
    let Ok(Ok(buf)) = tokio::time::timeout(LATE_WAIT, read_frame(&mut stream)).await else {
        return;
    };
    let sent = dc09::Sent {
        route: &r.route,
        seq,
        at,
        key: r.key_at(at),
    };
    if !matches!(dc09::judge(&buf, &sent), Ok(Answer::Ack | Answer::Rsp)) {
        return;
    }
    tracing::info!(region = %region, receiver = %r.name, event = e.seq, "alarm centre: a late ACK (the message had gone on to the next receiver)");
    let note = crate::store::AlarmEvent {
        at: state.now(),
        kind: varn_core::wire::EventKind::Note.as_str().into(),
        actor: "larmcentralen".into(),
        detail: format!(
            "{}: {} svarade sent (ACK); meddelandet hade redan gått vidare till nästa mottagare",
            e.kind, r.name
        ),
    };
    if let Err(err) = state
        .store()
        .add_alarm_event(&region, e.alarm_id, &note)
        .await
    {
        tracing::warn!("alarm centre: noting a late ACK failed: {err}");
    }
}

/// The receivers' links and which one carries the traffic now.
struct Links {
    links: Vec<Link>,
    /// How each receiver stands, as last recorded.
    states: Vec<ReceiverState>,
    /// The receiver messages go to (0: the primary).
    active: usize,
    /// When the primary was last tried while a backup carries the traffic.
    primary_tried: tokio::time::Instant,
    /// The primary being tried now: whether it answered.
    probe: Option<tokio::task::JoinHandle<bool>>,
}

/// Notes whether receiver `i` answered and which one is active; records the link's state
/// (any receiver answering) and each receiver's, when something changed.
async fn set_link(state: &AppState, c: &Centre, links: &mut Links, i: usize, answered: bool) {
    let now = state.now();
    // Whether some receiver answers, as recorded: unknown until one has been tried.
    let overall = |states: &[ReceiverState]| {
        let tried = states.iter().any(|s| s.up.is_some());
        tried.then(|| states.iter().any(|s| s.up == Some(true)))
    };
    let before = overall(&links.states);
    let mut changed = false;
    for (j, s) in links.states.iter_mut().enumerate() {
        let up = if j == i { Some(answered) } else { s.up };
        let active = j == links.active;
        if s.up == up && s.active == active {
            continue;
        }
        if s.up != up && up == Some(false) {
            tracing::warn!(region = %c.region, receiver = %s.name, "alarm centre: the receiver does not answer");
        } else if s.up != up {
            tracing::info!(region = %c.region, receiver = %s.name, "alarm centre: the receiver answers");
        }
        s.up = up;
        s.active = active;
        s.since = now;
        changed = true;
    }
    if !changed {
        return;
    }
    let up = overall(&links.states) == Some(true);
    if before != Some(up) && up {
        tracing::info!(region = %c.region, "alarm centre: the link answers");
    } else if before != Some(up) {
        tracing::warn!(region = %c.region, "alarm centre: no receiver answers");
    }
    if let Err(e) = state
        .store()
        .centre_link(&c.region, up, &links.states, now)
        .await
    {
        tracing::error!("alarm centre: recording the link's state failed: {e}");
    }
}

/// Sends one message to the active receiver and, when it does not answer as it should
/// within the time allowed, to the next, each once. The answer and the receiver that gave
/// it, or the last error when none did.
async fn send(
    state: &AppState,
    c: &Centre,
    links: &mut Links,
    content: &Content,
    event: Option<&CentreEvent>,
) -> Result<(Answer, usize), String> {
    let mut last = String::new();
    for _ in 0..c.receivers.len() {
        let i = links.active;
        let r = &c.receivers[i];
        let at = state.now();
        match exchange(r, c.timeout, &mut links.links[i], content, at).await {
            Ok(a) => {
                set_link(state, c, links, i, true).await;
                return Ok((a, i));
            }
            Err(Failed { why, late }) => {
                if let (Some((stream, seq)), Some(e)) = (late, event) {
                    if c.receivers.len() > 1 {
                        tokio::spawn(late_answer(
                            state.clone(),
                            r.clone(),
                            e.clone(),
                            c.region.clone(),
                            stream,
                            seq,
                            at,
                        ));
                    }
                }
                tracing::warn!(region = %c.region, receiver = %r.name, "alarm centre: {why}");
                last = format!("{}: {why}", r.name);
                if c.receivers.len() > 1 {
                    links.active = (i + 1) % c.receivers.len();
                    tracing::warn!(
                        region = %c.region,
                        to = %c.receivers[links.active].name,
                        "alarm centre: failing over"
                    );
                }
                set_link(state, c, links, i, false).await;
            }
        }
    }
    Err(last)
}

/// While a backup carries the traffic, asks the primary (a supervision message, on a
/// connection of its own, in a task of its own so that no alarm waits for the answer) every
/// half interval; once it answers, traffic returns to it.
async fn try_primary(state: &AppState, c: &Centre, links: &mut Links) {
    if let Some(probe) = links.probe.take_if(|p| p.is_finished()) {
        let answered = probe.await.unwrap_or(false);
        if answered {
            tracing::info!(region = %c.region, "alarm centre: the primary answers again; traffic returns to it");
            links.active = 0;
            // The traffic's own connection to it is made anew.
            links.links[0].stream = None;
        }
        set_link(state, c, links, 0, answered).await;
    }
    if links.active == 0
        || links.probe.is_some()
        || links.primary_tried.elapsed() < supervision_gap(c.supervision)
    {
        return;
    }
    links.primary_tried = tokio::time::Instant::now();
    let (r, timeout, at) = (c.receivers[0].clone(), c.timeout, state.now());
    let region = c.region.clone();
    links.probe = Some(tokio::spawn(async move {
        match exchange(&r, timeout, &mut Link::new(), &Content::Null, at).await {
            Ok(_) => true,
            Err(Failed { why, .. }) => {
                tracing::info!(region = %region, "alarm centre: the primary still does not answer: {why}");
                false
            }
        }
    }));
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
    let mut links = Links {
        links: c.receivers.iter().map(|_| Link::new()).collect(),
        states: c
            .receivers
            .iter()
            .enumerate()
            .map(|(i, r)| ReceiverState {
                name: r.name.clone(),
                up: None,
                active: i == 0,
                since: state.now(),
            })
            .collect(),
        active: 0,
        primary_tried: tokio::time::Instant::now(),
        probe: None,
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
            links.links.iter_mut().for_each(|l| l.stream = None);
            if wait(&state, LEASE / 3).await {
                return;
            }
            continue;
        }
        try_primary(&state, &c, &mut links).await;
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
        let via = |i: usize| {
            if c.receivers.len() > 1 {
                format!(" ({})", c.receivers[i].name)
            } else {
                String::new()
            }
        };
        let mut failed = false;
        for e in &pending {
            let Some(content) = content_of(e, c.drills) else {
                record(&state, &c, e, "SKIP", None).await;
                continue;
            };
            match send(&state, &c, &mut links, &content, Some(e)).await {
                Ok((Answer::Ack | Answer::Rsp, i)) => {
                    record(&state, &c, e, &format!("ACK{}", via(i)), Some(true)).await;
                    naks.remove(&e.seq);
                    backoff.reset();
                }
                Ok((Answer::Duh, i)) => {
                    tracing::warn!(region = %c.region, event = e.seq, "alarm centre: DUH (not understood)");
                    record(&state, &c, e, &format!("DUH{}", via(i)), Some(false)).await;
                }
                Ok((Answer::Nak, i)) => {
                    let n = naks.entry(e.seq).or_default();
                    *n += 1;
                    tracing::warn!(region = %c.region, event = e.seq, naks = *n, "alarm centre: NAK");
                    if *n >= MAX_NAKS {
                        record(&state, &c, e, &format!("NAK{}", via(i)), Some(false)).await;
                        naks.remove(&e.seq);
                    } else {
                        failed = true;
                        break;
                    }
                }
                Err(_) => {
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
        // Supervision: a message after half the interval without traffic, so two go in
        // every interval and a dead link shows within one.
        let active = links.active;
        if pending.is_empty()
            && links.links[active].last_traffic.elapsed() >= supervision_gap(c.supervision)
        {
            if let Err(why) = send(&state, &c, &mut links, &Content::Null, None).await {
                tracing::warn!(region = %c.region, "alarm centre supervision: {why}");
                // Tried again at the next half interval; the timer starts over.
                links.links[active].last_traffic = tokio::time::Instant::now();
            }
        }
        if !pending.is_empty() {
            continue;
        }
        // Wake for the next change, the supervision interval, or the lease's renewal.
        let quiet = supervision_gap(c.supervision)
            .saturating_sub(links.links[links.active].last_traffic.elapsed())
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
    fn a_dead_link_shows_within_one_supervision_interval() {
        let s = Duration::from_secs;
        // SOS Access's shortest level, with the default failover time.
        assert_eq!(supervision_gap(s(90)), s(45));
        assert_eq!(longest_unnoticed(s(90), s(10)), s(55));
        assert!(longest_unnoticed(s(90), s(10)) <= s(90));
        assert!(longest_unnoticed(s(20), s(10)) <= s(20));
        assert!(longest_unnoticed(s(20), s(11)) > s(20));
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
