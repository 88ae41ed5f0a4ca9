//! The device API: enroll, raise and cancel alarms, wait for acknowledgement, send reports and
//! upload attachments. Every write is idempotent by the client's id.

mod alarms;
mod checkins;
mod device;
mod reports;
mod uploads;

use crate::auth::{self, DeviceAuth};
use crate::contract::{
    BodyProblems, DeviceProblems, JsonObject, Octets, ProblemAnswer, UploadOffset, VersionNumber,
    WaitSeconds,
};
use crate::front::ClientIp;
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::ratelimit::{OverQuota, Quota};
use crate::store::{Revoker, StoreError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use uuid::Uuid;
use varn_core::paths;
use varn_core::wire::ProblemType;
use varn_core::wire::{
    check_text, message_text, normalize_code, AlarmMessage, AlarmReceipt, AlarmRequest,
    AttachmentMeta, CancelRequest, CheckinReceipt, CheckinRequest, CheckoutRequest, DeviceInfo,
    EnrollRequest, EnrollResponse, EventKind, Instructions, MessageFrom, MessageRequest,
    ReportReceipt, ReportRequest, TimelineEntry, UploadStatus, MAX_MESSAGE_CHARS,
};

pub use alarms::*;
pub use checkins::*;
pub use device::*;
pub use reports::*;
pub use uploads::*;

/// How long an enrollment code is valid.
pub const CODE_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
pub use crate::limits::MAX_WAIT_SECS;

type Result<T> = std::result::Result<T, ApiError>;

/// The answer to an idempotent write: 201 with what was stored when this request stored it,
/// 200 with the same when it was there already (a retry).
fn stored<T: serde::Serialize>(created: bool, body: T) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// 429 for a device over a quota.
pub(crate) fn over(q: OverQuota) -> ApiError {
    ApiError::too_many(q.wait, q.detail)
}

/// A write counted against the device's quota for `kind`: over the quota it is refused,
/// unless `stored_before` finds the request already stored (a retry, answered as before
/// whatever the quota says — then the answer comes back as `Err`). A write that stores
/// nothing new (it reports `false`) is not counted.
async fn counted<T>(
    state: &AppState,
    device: &crate::store::Device,
    kinds: &[(Quota, u64)],
    stored_before: impl std::future::Future<Output = Result<Option<Response>>>,
    write: impl std::future::Future<Output = std::result::Result<(T, bool), StoreError>>,
) -> Result<std::result::Result<(T, bool), Response>> {
    let give_back = |taken: Vec<crate::ratelimit::Taken>| {
        for t in taken {
            state.quotas().give_back(t);
        }
    };
    let mut taken = Vec::with_capacity(kinds.len());
    for &(kind, amount) in kinds {
        match state.quotas().take(device.id, kind, amount) {
            Ok(t) => taken.push(t),
            Err(q) => {
                give_back(taken);
                return match stored_before.await? {
                    Some(answer) => Ok(Err(answer)),
                    None => Err(over(q)),
                };
            }
        }
    }
    match write.await {
        Ok((value, true)) => Ok(Ok((value, true))),
        Ok((value, false)) => {
            give_back(taken);
            Ok(Ok((value, false)))
        }
        Err(e) => {
            give_back(taken);
            Err(e.into())
        }
    }
}
