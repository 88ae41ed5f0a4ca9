//! Escalation when nobody acknowledges: an open alarm (not a drill) that no officer has
//! acknowledged within the region's limit (`alarm.ack_limit_seconds` in its profile) is
//! escalated, and again after every further limit: each step makes every open dashboard sound
//! and flash again (the alarm is published with a higher version) and alerts the next person
//! on the region's escalation list through a [`Notifier`]. Past the end of the list, each
//! step alerts everyone on it again. An acknowledgement or a cancel stops it.
//!
//! Each step is claimed in the database ([`Store::escalate_alarm`]), so it happens exactly
//! once however many loops or instances try, and it is decided from stored times and the
//! server's [`Clock`], so it still happens after a restart and with no word from the device.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::store::{Alarm, AlarmEvent, StoreError};
use crate::AppState;

/// How often the server looks for alarms to escalate.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The limit when a region has no profile on this server.
pub const DEFAULT_LIMIT_SECONDS: u32 = 60;

/// Someone on a region's escalation list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name, as the app and the dashboard show it.
    pub name: String,
    /// Where the alert goes.
    pub email: String,
}

/// Sends an alert to one person on the escalation list.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Alerts `to` that `alarm` is still not acknowledged (escalation `step`).
    async fn notify(&self, to: &Contact, alarm: &Alarm, step: u32) -> Result<(), String>;
}

/// The escalation lists (by region id) and the way to reach the people on them.
#[derive(Clone, Default)]
pub struct Escalation {
    /// Region id → the people to alert, in order.
    pub lists: HashMap<String, Vec<Contact>>,
    /// How they are alerted; needed as soon as any list has someone on it.
    pub notifier: Option<Arc<dyn Notifier>>,
}

impl Escalation {
    /// Whom step `step` (1-based) of an alarm in `region` alerts.
    pub fn recipients(&self, region: &str, step: u32) -> &[Contact] {
        let list = self.lists.get(region).map(Vec::as_slice).unwrap_or(&[]);
        match list.get(step as usize - 1) {
            Some(one) => std::slice::from_ref(one),
            None => list,
        }
    }
}

/// The escalation step an alarm should be at by `now`: one per full limit since it was
/// received.
pub fn due_step(received_at: DateTime<Utc>, limit_seconds: u32, now: DateTime<Utc>) -> u32 {
    let waited = (now - received_at).num_milliseconds();
    if waited <= 0 || limit_seconds == 0 {
        return 0;
    }
    (waited / (i64::from(limit_seconds) * 1000)).min(i64::from(u32::MAX)) as u32
}

/// What one look found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalated {
    /// The alarm.
    pub alarm: Uuid,
    /// The step recorded.
    pub step: u32,
    /// Whom it alerted.
    pub to: Vec<String>,
}

/// How long one escalation mail may take before it counts as not delivered.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(20);

/// How many escalation steps are claimed at once.
const CLAIMS_AT_ONCE: usize = 32;

/// The alarms in turn by region (one of each region, then the next of each, …), so that a
/// flood of alarms in one region does not make another region's alarm wait behind it.
pub fn fair_order(alarms: Vec<Alarm>) -> Vec<Alarm> {
    let mut by_region: Vec<(String, std::collections::VecDeque<Alarm>)> = Vec::new();
    for a in alarms {
        match by_region.iter_mut().find(|(r, _)| *r == a.region_id) {
            Some((_, q)) => q.push_back(a),
            None => by_region.push((a.region_id.clone(), [a].into())),
        }
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for (_, q) in by_region.iter_mut() {
            if let Some(a) = q.pop_front() {
                out.push(a);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Looks once: escalates, by one step each, every open alarm that is due. Returns what this
/// call recorded (another caller may have recorded a step first; then it is not listed).
/// Steps are claimed several at a time, regions in turn; the mails go out on tasks of their
/// own, each with [`MAIL_TIMEOUT`], so a slow mail server delays no other alarm.
pub async fn tick(state: &AppState) -> Result<Vec<Escalated>, StoreError> {
    use futures_util::StreamExt;
    let now = state.now();
    // Missed check-outs first: each becomes an open alarm, which then escalates like any.
    for k in state.store().overdue_checkins(now).await? {
        if let Some(alarm) = state.store().raise_overdue_checkin(k.id, now).await? {
            tracing::warn!(checkin = %k.id, alarm = %alarm.id, "check-out missed: alarm raised");
        }
    }
    let due: Vec<Alarm> = state
        .store()
        .unacknowledged_alarms()
        .await?
        .into_iter()
        .filter(|alarm| {
            let limit = state
                .profile(&alarm.region_id)
                .map(|p| p.profile.alarm.ack_limit_seconds)
                .unwrap_or(DEFAULT_LIMIT_SECONDS);
            due_step(alarm.received_at, limit, now) > alarm.escalation_step
        })
        .collect();
    let results: Vec<Result<Option<Escalated>, StoreError>> =
        futures_util::stream::iter(fair_order(due))
            .map(|alarm| escalate_one(state, alarm, now))
            .buffer_unordered(CLAIMS_AT_ONCE)
            .collect()
            .await;
    let mut done = Vec::new();
    for r in results {
        if let Some(e) = r? {
            done.push(e);
        }
    }
    Ok(done)
}

/// Claims the next step of one alarm and, if this call got it, publishes it and sends its
/// mails in the background.
async fn escalate_one(
    state: &AppState,
    alarm: Alarm,
    now: DateTime<Utc>,
) -> Result<Option<Escalated>, StoreError> {
    let step = alarm.escalation_step + 1;
    let recipients = state
        .escalation()
        .recipients(&alarm.region_id, step)
        .to_vec();
    let names: Vec<String> = recipients.iter().map(|c| c.name.clone()).collect();
    let Some(updated) = state
        .store()
        .escalate_alarm(alarm.id, step, &names, now)
        .await?
    else {
        return Ok(None);
    };
    tracing::warn!(alarm = %alarm.id, step, "alarm not acknowledged in time: escalated");
    let state = state.clone();
    tokio::spawn(async move { notify(&state, &updated, step, &recipients).await });
    Ok(Some(Escalated {
        alarm: alarm.id,
        step,
        to: names,
    }))
}

/// Alerts each recipient at once, each mail bounded by [`MAIL_TIMEOUT`]; a failure is
/// logged and written into the alarm's timeline, so the officers see who was not reached.
async fn notify(state: &AppState, alarm: &Alarm, step: u32, recipients: &[Contact]) {
    let Some(notifier) = state.escalation().notifier.clone() else {
        return;
    };
    let sends = recipients.iter().map(|to| {
        let notifier = notifier.clone();
        async move {
            let result =
                match tokio::time::timeout(MAIL_TIMEOUT, notifier.notify(to, alarm, step)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!(
                        "no answer from the mail server in {} s",
                        MAIL_TIMEOUT.as_secs()
                    )),
                };
            (to, result)
        }
    });
    for (to, result) in futures_util::future::join_all(sends).await {
        if let Err(e) = result {
            tracing::error!(alarm = %alarm.id, step, "escalation notice not delivered: {e}");
            let event = AlarmEvent {
                at: state.now(),
                kind: varn_core::wire::EventKind::NotifyFailed.as_str().into(),
                actor: "server".into(),
                detail: format!("{}: {e}", to.name),
            };
            if let Err(e) = state
                .store()
                .add_alarm_event(&alarm.region_id, alarm.id, &event)
                .await
            {
                tracing::error!(alarm = %alarm.id, "timeline entry not written: {e}");
            }
        }
    }
}

/// Looks every [`CHECK_EVERY`] until the server shuts down. Every instance on a shared
/// database looks; the claims in the database keep each step to one of them.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = state.shutting_down() => return,
        }
        if let Err(e) = tick(&state).await {
            tracing::error!("escalation check failed (trying again): {e}");
        }
    }
}

/// One alert as a [`RecordingNotifier`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// To whom (e-mail).
    pub to: String,
    /// Which alarm.
    pub alarm: Uuid,
    /// Which step.
    pub step: u32,
    /// The mail's subject, as [`message`] writes it.
    pub subject: String,
    /// The mail's text.
    pub body: String,
}

/// Keeps every alert instead of sending it (tests), optionally failing for one address.
#[derive(Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<Notice>>,
    /// Alerts to this address fail (to test that a failure is recorded).
    pub fail_for: Mutex<Option<String>>,
}

impl RecordingNotifier {
    /// Everything alerted so far, in order.
    pub fn sent(&self) -> Vec<Notice> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, to: &Contact, alarm: &Alarm, step: u32) -> Result<(), String> {
        if self
            .fail_for
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
            == Some(to.email.as_str())
        {
            return Err("the mail server refused the recipient".into());
        }
        let (subject, body) = message(alarm, step);
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Notice {
                to: to.email.clone(),
                alarm: alarm.id,
                step,
                subject,
                body,
            });
        Ok(())
    }
}

/// The mail an escalation sends: subject and plain-text body (Swedish, then English). For
/// an alarm cancelled under duress it says not to call the person (a call would show whoever
/// forces them that the cancel was not real), and every mail carries the person's own
/// instructions for responders, so that nobody is told to call someone who asked not to be.
pub fn message(alarm: &Alarm, step: u32) -> (String, String) {
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&chrono::Local);
    let when = local(alarm.triggered_at).format("%Y-%m-%d %H:%M:%S");
    let subject = match alarm.duress_at {
        Some(_) => format!(
            "VÄRN: LARM UNDER TVÅNG från {} – ring inte personen (steg {step})",
            alarm.who
        ),
        None => format!(
            "VÄRN: larm från {} är inte kvitterat (steg {step})",
            alarm.who
        ),
    };
    let mut body = match alarm.duress_at {
        Some(at) => format!(
            "Personen avbröt larmet med sin hot-PIN kl {}: någon tvingade personen att avbryta. \
             Larmet gäller och ingen har kvitterat det.\n\n\
             RING INTE PERSONEN. Ett samtal kan visa den som tvingar personen att avbrottet inte \
             var äkta. Larma polisen (112) och följ personens instruktioner nedan.\n\n\
             Vem: {}\nUtlöst: {when}\n",
            local(at).format("%H:%M:%S"),
            alarm.who
        ),
        None => format!(
            "Ett larm i Värn har inte kvitterats av någon i larmcentralen.\n\n\
             Vem: {}\nUtlöst: {when}\n",
            alarm.who
        ),
    };
    if !alarm.meeting.is_empty() {
        body.push_str(&format!("Möte: {}\n", alarm.meeting));
    }
    if !alarm.place.is_empty() {
        body.push_str(&format!("Plats: {}\n", alarm.place));
    }
    if !alarm.instructions.is_empty() {
        body.push_str(&format!(
            "Personens instruktioner till den som hjälper: {}\n",
            alarm.instructions
        ));
    }
    body.push_str(&format!("Larm-id: {}\n\n", alarm.id));
    body.push_str(
        match (alarm.duress_at.is_some(), alarm.instructions.is_empty()) {
            (true, _) => {
                "Logga in i Värns larmcentral och kvittera larmet. Ring inte personen.\n\n\
             AN ALARM UNDER DURESS in Värn: the person was forced to cancel it with the duress \
             PIN. The alarm stands and nobody has acknowledged it. DO NOT CALL THE PERSON: a call \
             would show whoever forces them that the cancel was not real. Call the police (112), \
             follow the person's instructions above, and acknowledge it on the dashboard.\n"
            }
            (false, true) => {
                "Logga in i Värns larmcentral och kvittera larmet, eller ring personen. \
             Vid fara: ring 112.\n\n\
             An alarm in Värn has not been acknowledged. Log in to the dashboard and acknowledge \
             it, or call the person. In danger: call 112.\n"
            }
            (false, false) => {
                "Logga in i Värns larmcentral och kvittera larmet. Läs personens instruktioner \
             innan du ringer. Vid fara: ring 112.\n\n\
             An alarm in Värn has not been acknowledged. Log in to the dashboard and acknowledge \
             it. Read the person's instructions above before you call. In danger: call 112.\n"
            }
        },
    );
    (subject, body)
}

/// SMTP settings (the server's config file; the password from a file or the environment,
/// never from the config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Mail server host.
    pub host: String,
    /// Port (587 with STARTTLS, 465 with TLS); the default for `tls`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (only to a relay on this machine).
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login name, if the server wants one.
    pub username: Option<String>,
    /// The file holding the password (a relative name is read from systemd's credentials,
    /// `LoadCredential=`); else `VARN_SERVER_SMTP_PASSWORD`.
    pub password_file: Option<std::path::PathBuf>,
    /// Sender address.
    pub from: String,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the start.
    Tls,
    /// No encryption: only to a relay on this machine.
    None,
}

/// Sends the alerts as e-mail through SMTP (lettre).
pub struct SmtpNotifier {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpNotifier {
    /// Builds the transport; the password (if any) comes from `password`.
    pub fn new(cfg: &SmtpConfig, password: Option<String>) -> Result<SmtpNotifier, String> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::AsyncSmtpTransport;
        let from = cfg
            .from
            .parse()
            .map_err(|e| format!("smtp.from \"{}\": {e}", cfg.from))?;
        if cfg.tls == SmtpTls::None
            && !matches!(cfg.host.as_str(), "localhost" | "127.0.0.1" | "::1")
        {
            return Err(format!(
                "smtp.tls = \"none\" is only allowed to a relay on this machine, not {}",
                cfg.host
            ));
        }
        let mut builder = match cfg.tls {
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(&cfg.host)
            }
            SmtpTls::Tls => AsyncSmtpTransport::<lettre::Tokio1Executor>::relay(&cfg.host),
            SmtpTls::None => {
                Ok(AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&cfg.host))
            }
        }
        .map_err(|e| format!("smtp.host \"{}\": {e}", cfg.host))?
        .timeout(Some(Duration::from_secs(20)));
        if let Some(port) = cfg.port {
            builder = builder.port(port);
        }
        match (&cfg.username, password) {
            (Some(user), Some(pw)) => {
                builder = builder.credentials(Credentials::new(user.clone(), pw))
            }
            (Some(_), None) => {
                return Err("smtp.username is set but VARN_SERVER_SMTP_PASSWORD is not".to_string())
            }
            _ => {}
        }
        Ok(SmtpNotifier {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn notify(&self, to: &Contact, alarm: &Alarm, step: u32) -> Result<(), String> {
        use lettre::AsyncTransport;
        let (subject, body) = message(alarm, step);
        let to_box: lettre::message::Mailbox = format!("{} <{}>", to.name, to.email)
            .parse()
            .map_err(|e| format!("address of {}: {e}", to.name))?;
        let mail = lettre::Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(mail)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_mail_never_tells_anyone_to_call_a_person_under_duress_or_who_asked_not_to_be() {
        let plain = Alarm {
            who: "Anna Andersson".into(),
            place: "Torget".into(),
            ..Alarm::example()
        };
        let (subject, body) = message(&plain, 1);
        assert!(subject.contains("inte kvitterat") && subject.contains("Anna Andersson"));
        assert!(body.contains("eller ring personen") && body.contains("Plats: Torget"));
        assert!(!body.contains("instruktioner till"));

        let asked = Alarm {
            instructions: "Ring inte tillbaka, skicka sms. Kodord: blåsippa.".into(),
            ..plain.clone()
        };
        let (_, body) = message(&asked, 1);
        assert!(body.contains("Personens instruktioner till den som hjälper: Ring inte tillbaka"));
        assert!(!body.contains("eller ring personen"), "{body}");
        assert!(body.contains("Läs personens instruktioner innan du ringer"));

        let forced = Alarm {
            duress_at: Some(at("2026-11-24T10:03:00Z")),
            ..asked.clone()
        };
        let (subject, body) = message(&forced, 2);
        assert!(subject.contains("UNDER TVÅNG") && subject.contains("ring inte personen"));
        assert!(body.contains("RING INTE PERSONEN") && body.contains("DO NOT CALL THE PERSON"));
        assert!(
            body.contains("Kodord: blåsippa"),
            "the person's instructions travel with it"
        );
        for call in [
            "eller ring personen",
            "or call the person",
            "innan du ringer",
        ] {
            assert!(!body.contains(call), "{call}: {body}");
        }
    }

    #[test]
    fn a_step_is_due_after_each_full_limit() {
        let r = at("2026-11-24T10:00:00Z");
        assert_eq!(due_step(r, 60, at("2026-11-24T09:59:00Z")), 0);
        assert_eq!(due_step(r, 60, r), 0);
        assert_eq!(due_step(r, 60, at("2026-11-24T10:00:59.999Z")), 0);
        assert_eq!(due_step(r, 60, at("2026-11-24T10:01:00Z")), 1);
        assert_eq!(due_step(r, 60, at("2026-11-24T10:01:59Z")), 1);
        assert_eq!(due_step(r, 60, at("2026-11-24T10:02:00Z")), 2);
        assert_eq!(due_step(r, 0, at("2026-11-24T10:02:00Z")), 0);
    }

    #[test]
    fn each_step_alerts_the_next_person_then_everyone_again() {
        let c = |n: &str| Contact {
            name: n.into(),
            email: format!("{n}@example.se"),
        };
        let e = Escalation {
            lists: HashMap::from([("r".to_string(), vec![c("a"), c("b")])]),
            notifier: None,
        };
        assert_eq!(e.recipients("r", 1), &[c("a")]);
        assert_eq!(e.recipients("r", 2), &[c("b")]);
        assert_eq!(e.recipients("r", 3), &[c("a"), c("b")]);
        assert!(e.recipients("other", 1).is_empty());
    }

    #[test]
    fn a_flood_in_one_region_does_not_queue_another_regions_alarm_behind_it() {
        let alarm = |region: &str, n: u32| Alarm {
            id: Uuid::now_v7(),
            region_id: region.into(),
            escalation_step: n,
            ..Alarm::example()
        };
        let mut all: Vec<Alarm> = (0..1000).map(|n| alarm("flood", n)).collect();
        all.push(alarm("quiet", 7));
        let order = fair_order(all);
        assert_eq!(order.len(), 1001);
        let quiet = order.iter().position(|a| a.region_id == "quiet").unwrap();
        assert!(
            quiet <= 1,
            "the other region's alarm comes second at the latest ({quiet})"
        );
        // Within a region the order is kept (oldest first).
        let flood: Vec<u32> = order
            .iter()
            .filter(|a| a.region_id == "flood")
            .map(|a| a.escalation_step)
            .collect();
        assert!(flood.windows(2).all(|w| w[0] < w[1]));
    }
}
