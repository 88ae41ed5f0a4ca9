//! The region's follow-up on the dashboard: the list of reports (no content), one report
//! (recorded in the audit log), taking, messaging and closing a report, the statistics as
//! JSON and CSV, and the audit log of an item. Every read of a report, an attachment or an
//! alarm's timeline and every export is recorded before it is answered: if the log cannot
//! be written, nothing is shown.

use super::MayAct;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use varn_core::stats::{self, Filter, ReportFacts};
use varn_core::wire::{check_text, EventType, Followup, IncidentReport, Problem, MAX_SHORT_CHARS};

use super::{same_origin, Result, LIST_LIMIT, MAX_NOTE_CHARS};
use crate::auth::OfficerAuth;
use crate::contract::{Lang, Month};
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::store::{AuditAction, AuditEntry, AuditQuery, FollowupChange, Officer, Report};
use crate::AppState;

/// The longest message to the person.
pub const MAX_MESSAGE_CHARS: usize = 1000;
/// The most audit entries one request shows.
pub const AUDIT_LIMIT: u32 = 500;

/// Records that `o` did `action` to an item; an error means the read must not happen.
pub(crate) async fn record(
    state: &AppState,
    o: &Officer,
    action: AuditAction,
    item_kind: &str,
    item_id: impl ToString,
) -> Result<()> {
    let entry = AuditEntry::new(o, action, item_kind, item_id, state.now());
    state.store().audit(&entry).await?;
    Ok(())
}

/// A report as the list shows it: who, when, the kind and where its follow-up stands;
/// reading what it says is opening it (and is recorded).
#[derive(Debug, Serialize)]
struct ReportSummary {
    id: Uuid,
    who: String,
    revision: u32,
    first_received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    event: Option<EventType>,
    attachments: usize,
    followup: Followup,
}

impl From<Report> for ReportSummary {
    fn from(r: Report) -> Self {
        // The kind of event as the statistics count it (an old report's from its old kind).
        let report: IncidentReport = serde_json::from_value(r.body.clone()).unwrap_or_default();
        let facts = ReportFacts::of(&report, r.first_received_at);
        ReportSummary {
            id: r.id,
            who: r.who,
            revision: r.revision,
            first_received_at: r.first_received_at,
            updated_at: r.updated_at,
            started_at: report.started_at,
            event: facts.event,
            attachments: r.attachments.len(),
            followup: r.followup,
        }
    }
}

pub(super) async fn reports(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
) -> Result<Response> {
    let list: Vec<ReportSummary> = state
        .store()
        .reports(&o.region_id, LIST_LIMIT)
        .await?
        .into_iter()
        .map(ReportSummary::from)
        .collect();
    super::record_list(
        &state,
        &o,
        AuditAction::ReadReportList,
        "report",
        list.iter().map(|r| r.id),
    )
    .await?;
    Ok(Json(list).into_response())
}

pub(super) async fn report(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    // Only a report of the officer's own region is read, and so recorded.
    let r = state
        .store()
        .report(&o.region_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such report in your region"))?;
    record(&state, &o, AuditAction::ReadReport, "report", id).await?;
    Ok(Json(r).into_response())
}

/// `POST …/reports/{id}/followup`: take the report, write the person, close it.
pub(super) async fn follow_up(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<FollowupChange>,
) -> Result<Response> {
    same_origin(&state, &headers)?;
    if let Some(m) = &change.message {
        check_text("message", m.trim(), MAX_MESSAGE_CHARS)?;
    }
    check_text("note", change.note.trim(), MAX_NOTE_CHARS)?;
    if state.store().report(&o.region_id, id).await?.is_none() {
        return Err(ApiError::not_found("no such report in your region"));
    }
    record(&state, &o, AuditAction::FollowUp, "report", id).await?;
    let r = state
        .store()
        .follow_up(&o.region_id, id, &o.display_name, &change, state.now())
        .await?;
    tracing::info!(report = %id, officer = %o.id, state = change.state.as_str(), "report follow-up");
    Ok(Json(r).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsParams {
    from: Option<String>,
    to: Option<String>,
    event: Option<String>,
    lang: Option<String>,
}

/// The region's election campaign, from its profile, when it names one.
fn election(state: &AppState, region: &str) -> Option<(NaiveDate, NaiveDate)> {
    let served = state.profile(region)?;
    let e = served.profile.election.as_ref()?;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    Some((day(&e.from)?, day(&e.to)?))
}

async fn figures(state: &AppState, o: &Officer, p: &StatsParams) -> Result<stats::Figures> {
    let filter = Filter::parse(
        p.from.as_deref(),
        p.to.as_deref(),
        p.event.as_deref(),
        state.now().date_naive(),
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let reports = state
        .store()
        .report_facts(&o.region_id, filter.from, filter.to)
        .await?;
    let alarms = state
        .store()
        .alarm_facts(&o.region_id, filter.from, filter.to)
        .await?;
    Ok(stats::figures(
        &filter,
        &reports,
        &alarms,
        election(state, &o.region_id),
    ))
}

/// What the audit log says was asked for: the months the answer covers, and the kind of event.
fn filter_text(f: &stats::Figures) -> String {
    let mut s = format!("{}..{}", f.first_month, f.last_month);
    if let Some(e) = f.event {
        s.push_str(&format!(" {}", e.as_str()));
    }
    s.chars().take(MAX_SHORT_CHARS).collect()
}

/// The figures for a request, recorded in the audit log as `action` before they are given.
async fn recorded_figures(
    state: &AppState,
    o: &Officer,
    p: &StatsParams,
    action: AuditAction,
) -> Result<stats::Figures> {
    let f = figures(state, o, p).await?;
    record(state, o, action, "statistics", filter_text(&f)).await?;
    Ok(f)
}

/// `GET …/statistics`: the region's figures as JSON.
#[utoipa::path(
    get,
    path = "/dashboard/api/statistics",
    operation_id = "getStatistics",
    summary = "The region's statistics (security officers of the region, with a dashboard session)",
    description = "Incidents by month and by PTU's categories, the police-report share and reasons, the election campaign against the rest, and alarms (drills never counted), over whole calendar months. No count of 1 or 2 is shown, nor one that the other counts, or the answer a month shorter at either end, would give away: such counts are \"hidden\" (varn_core::stats::suppress). The same figures as CSV at /dashboard/api/statistics.csv. Every request is recorded in the audit log.",
    security(("officerSession" = [])),
    params(
        ("from" = inline(Option<Month>), Query, description = "First month, `YYYY-MM` (or its first day) [default: eleven months before `to`]."),
        ("to" = inline(Option<Month>), Query, description = "Last month, `YYYY-MM` (or its last day) [default: this month]."),
        ("event" = inline(Option<EventType>), Query, description = "Only reports of this kind of event."),
        ("lang" = inline(Option<Lang>), Query, description = "The CSV's language (`sv` unless `en`)."),
    ),
    responses(
        (status = 200, description = "The figures.", body = stats::Figures),
        (status = 401, description = "No dashboard session.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a month (YYYY-MM), a day inside a month (the detail names the month to ask for), the end before the start, more than 120 months, or an unknown kind of event.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn statistics(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Response> {
    let f = recorded_figures(&state, &o, &p, AuditAction::ReadStatistics).await?;
    Ok(Json(f).into_response())
}

/// `GET …/statistics.csv`: the same figures as a CSV download (an export, recorded).
pub(super) async fn statistics_csv(
    State(state): State<AppState>,
    MayAct(o): MayAct,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Response> {
    let f = recorded_figures(&state, &o, &p, AuditAction::ExportStatistics).await?;
    let swedish = p.lang.as_deref() != Some("en");
    Ok(super::download(
        f.to_csv(swedish),
        "text/csv; charset=utf-8",
        &format!("varn-statistik-{}-{}.csv", f.from, f.to),
    ))
}

/// `GET …/audit/{id}`: who read or exported an item of the officer's region, newest first.
pub(super) async fn audit_of_item(
    State(state): State<AppState>,
    OfficerAuth(o): OfficerAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response> {
    let entries = state
        .store()
        .audit_log(&AuditQuery {
            region_id: Some(o.region_id.clone()),
            item_id: Some(id.to_string()),
            limit: AUDIT_LIMIT,
            ..Default::default()
        })
        .await?;
    Ok(Json(entries).into_response())
}

/// One member of a list, as the page shows it.
#[derive(Debug, Serialize)]
struct Word {
    key: &'static str,
    sv: &'static str,
    en: &'static str,
}

fn words<T: Copy>(
    all: &[T],
    key: fn(T) -> &'static str,
    labels: fn(T) -> (&'static str, &'static str),
) -> Vec<Word> {
    all.iter()
        .map(|&x| {
            let (sv, en) = labels(x);
            Word {
                key: key(x),
                sv,
                en,
            }
        })
        .collect()
}

/// `GET …/vocabulary`: the report's follow-up lists with their labels, from `varn_core::ptu`,
/// so the page names every value as the app and the exports do.
pub(super) async fn vocabulary(OfficerAuth(_): OfficerAuth) -> Response {
    use varn_core::ptu::*;
    Json(serde_json::json!({
        "event": words(EventType::ALL, EventType::as_str, EventType::labels),
        "channel": words(Channel::ALL, Channel::as_str, Channel::labels),
        "perpetrator": words(Perpetrator::ALL, Perpetrator::as_str, Perpetrator::labels),
        "consequence": words(Consequence::ALL, Consequence::as_str, Consequence::labels),
        "not_reported_reason": words(NotReportedReason::ALL, NotReportedReason::as_str, NotReportedReason::labels),
        "quick_to_person": varn_core::alarm::QUICK_TO_PERSON
            .iter()
            .map(|&(key, sv, en)| Word { key, sv, en })
            .collect::<Vec<_>>(),
    }))
    .into_response()
}
