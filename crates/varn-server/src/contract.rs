//! The API's contract, generated from the code: the wire types' schemas come from
//! `varn-core` (its `openapi` feature), each operation is described by `#[utoipa::path]`
//! next to its handler, and the router registers and documents a route in one statement
//! (`routes!`). [`document`] is what `/openapi.json` serves and what `varn-server openapi`
//! writes to `crates/varn-server/openapi.json`; a test fails when the two differ.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};
use varn_core::wire::{Problem, MAX_ATTACHMENT_BYTES};

use crate::limits::MAX_WAIT_SECS;

/// The security scheme of a device's token.
pub const BEARER: &str = "bearer";
/// The security scheme of an officer's dashboard session.
pub const OFFICER_SESSION: &str = "officerSession";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Värn region server",
        version = "1.0.0",
        description = "The device API of Värn's region server. Devices enroll with a one-time \
            code, then raise alarms and send incident reports. Every write is idempotent by \
            the client's UUIDv7. Errors are application/problem+json."
    ),
    components(responses(ProblemAnswer), schemas(Problem)),
    modifiers(&SecuritySchemes)
)]
struct Base;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The device token from /v1/enroll"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            OFFICER_SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "A security officer's dashboard session (POST /dashboard/api/login).",
            ))),
        );
    }
}

/// The document's frame (its info, the security schemes, the problem answer); the router
/// adds every operation and the schemas they use.
pub fn base() -> utoipa::openapi::OpenApi {
    Base::openapi()
}

/// The whole document, as the router built it.
pub fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let doc = crate::documented_routes().into_openapi();
        let mut value = serde_json::to_value(doc).expect("the document is JSON");
        nullable_formats_as_any_of(&mut value);
        let mut text = serde_json::to_string_pretty(&value).expect("the document is JSON");
        text.push('\n');
        text
    });
    &DOCUMENT
}

/// Writes a nullable value with a format (`{"type": ["string", "null"], "format":
/// "date-time"}`, as utoipa writes an `Option<DateTime>`) as `anyOf` a formatted string and
/// null. Both say the same in JSON Schema, but schemathesis drops the format from a type
/// list and sends `""` as a date-time, which the server rightly refuses.
fn nullable_formats_as_any_of(v: &mut serde_json::Value) {
    use serde_json::{json, Value};
    match v {
        Value::Object(map) => {
            let nullable = map
                .get("type")
                .and_then(Value::as_array)
                .and_then(|types| match types.as_slice() {
                    [Value::String(t), Value::String(null)] if null == "null" => Some(t.clone()),
                    _ => None,
                });
            if let (Some(t), true) = (nullable, map.contains_key("format")) {
                let mut value = serde_json::Map::new();
                value.insert("type".into(), Value::String(t));
                for key in [
                    "format",
                    "minimum",
                    "maximum",
                    "pattern",
                    "maxLength",
                    "minLength",
                ] {
                    if let Some(x) = map.remove(key) {
                        value.insert(key.into(), x);
                    }
                }
                map.remove("type");
                map.insert("anyOf".into(), json!([value, { "type": "null" }]));
            }
            map.values_mut().for_each(nullable_formats_as_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_formats_as_any_of),
        _ => {}
    }
}

/// Every error: `application/problem+json` (RFC 9457), one shared answer.
pub struct ProblemAnswer;

/// The problem answer's name among the document's responses.
const PROBLEM_ANSWER: &str = "Problem";

impl<'s> ToResponse<'s> for ProblemAnswer {
    fn response() -> (&'s str, RefOr<Response>) {
        (
            PROBLEM_ANSWER,
            ResponseBuilder::new()
                .description("Problem (RFC 9457)")
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(Problem::name())))
                        .build(),
                )
                .build()
                .into(),
        )
    }
}

/// The problem answer under each of `statuses`.
fn problems(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|s| {
            (
                s.to_string(),
                Ref::from_response_name(PROBLEM_ANSWER).into(),
            )
        })
        .collect()
}

/// What any route with a device's token may answer, besides its own: 401 (no token, a bad or
/// revoked one), 429 (over a quota or a failure limit) and 503 (the server at capacity, the
/// database not answering).
pub struct DeviceProblems;

impl IntoResponses for DeviceProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[401, 429, 503])
    }
}

/// What a JSON body may be refused with: 400 (not readable), 413 (too large), 415 (not
/// JSON) and 422 (not valid, naming the field).
pub struct BodyProblems;

impl IntoResponses for BodyProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[400, 413, 415, 422])
    }
}

/// A schema the operations name with `inline(…)` (a parameter's, a body's).
macro_rules! parameter {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {}
    };
}

parameter!(
    /// Bytes as they are, for `application/octet-stream` bodies.
    Octets => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
);
parameter!(
    /// A JSON object not described further here (the region profile, this document).
    JsonObject => ObjectBuilder::new().schema_type(Type::Object)
);

fn integer(max: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(max))
}

parameter!(
    /// The long-poll's `wait`: at most [`MAX_WAIT_SECS`].
    WaitSeconds => integer(MAX_WAIT_SECS)
);
parameter!(
    /// The long-poll's `after_version`: a version as the server stores it.
    VersionNumber => integer(i64::MAX as u64)
);
parameter!(
    /// `Upload-Offset`: where a chunk starts, within the largest attachment.
    UploadOffset => integer(MAX_ATTACHMENT_BYTES)
);
parameter!(
    /// The updater's `current_version`.
    ReleaseVersion => varn_core::openapi::version()
);
parameter!(
    /// The updater's `target`.
    Target => one_of(varn_core::update::TARGETS)
);
parameter!(
    /// The updater's `arch`.
    Arch => one_of(varn_core::update::ARCHES)
);
parameter!(
    /// The updater's `bundle_type`.
    BundleType => one_of(varn_core::update::BUNDLE_TYPES)
);
parameter!(
    /// A month, `YYYY-MM` (or, for a period's ends, its first or last day, `YYYY-MM-DD`).
    Month => ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])(-[0-9]{2})?$"))
);
parameter!(
    /// A language of the dashboard.
    Lang => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["sv", "en"]))
);

/// One of `names`.
fn one_of(names: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nullable_formatted_value_becomes_any_of() {
        let mut v = json!({ "properties": {
            "at": { "type": ["string", "null"], "format": "date-time", "description": "When." },
            "n": { "type": ["integer", "null"], "format": "int64", "minimum": 0 },
            "name": { "type": ["string", "null"] },
            "day": { "type": "string", "format": "date" },
        }});
        nullable_formats_as_any_of(&mut v);
        assert_eq!(
            v,
            json!({ "properties": {
                "at": {
                    "anyOf": [{ "type": "string", "format": "date-time" }, { "type": "null" }],
                    "description": "When.",
                },
                "n": {
                    "anyOf": [
                        { "type": "integer", "format": "int64", "minimum": 0 },
                        { "type": "null" },
                    ],
                },
                "name": { "type": ["string", "null"] },
                "day": { "type": "string", "format": "date" },
            }})
        );
    }

    #[test]
    fn the_document_is_generated_whole() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"].as_object().unwrap().len() >= 18);
        assert!(doc["components"]["responses"]["Problem"].is_object());
    }
}
