//! The wire types' JSON Schemas where a derive cannot say it: the limits and patterns the
//! validators in [`crate::wire`] enforce, written here from the same constants, so that the
//! server's generated OpenAPI document states exactly what it accepts. Each function is a
//! field's `#[schema(schema_with = …)]`.

use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::ptu::Consequence;
use crate::stats::{Count, MIN_SHOWN};
use crate::update::VERSION_PATTERN;
use crate::wire::{
    EventKind, ProblemType, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, MAX_CHECKLIST_ITEMS,
    MAX_MESSAGE_CHARS, MAX_REPORT_TEXT_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, TEXT_PATTERN,
};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A text [`crate::wire::check_text`] accepts with at most `max` characters.
fn text(max: usize) -> ObjectBuilder {
    string().max_length(Some(max)).pattern(Some(TEXT_PATTERN))
}

fn uuid() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// A short text: a place, a meeting, a report number, a checklist item.
pub fn short_text() -> Schema {
    text(MAX_SHORT_CHARS).build().into()
}

/// A free text: an alarm's message, a cancel's reason.
pub fn free_text() -> Schema {
    text(MAX_TEXT_CHARS).build().into()
}

/// One section of an incident report.
pub fn report_text() -> Schema {
    text(MAX_REPORT_TEXT_CHARS).build().into()
}

/// The person's instructions for responders ([`crate::wire::Instructions`]).
pub fn instructions() -> Schema {
    text(MAX_MESSAGE_CHARS)
        .description(Some("What responders should know; empty clears it."))
        .build()
        .into()
}

/// A message during an alarm ([`crate::wire::message_text`]): some words besides spaces.
pub fn message() -> Schema {
    AllOfBuilder::new()
        .item(text(MAX_MESSAGE_CHARS))
        .item(string().pattern(Some(r"\S")))
        .description(Some("Some words (not only spaces); trimmed."))
        .build()
        .into()
}

/// An attachment's file name: a short text, not empty.
pub fn filename() -> Schema {
    text(MAX_SHORT_CHARS).min_length(Some(1)).build().into()
}

/// An attachment's size in bytes.
pub fn attachment_size() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(MAX_ATTACHMENT_BYTES))
        .build()
        .into()
}

/// An attachment's SHA-256, lower-case hex.
pub fn sha256() -> Schema {
    string().pattern(Some("^[0-9a-f]{64}$")).build().into()
}

/// A revision as a request sends it: 1 for the first.
pub fn revision() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(u32::MAX))
        .build()
        .into()
}

/// A release version as [`crate::update::is_version`] accepts it.
pub fn version() -> Schema {
    string().pattern(Some(VERSION_PATTERN)).build().into()
}

/// A report's checklist: the ids of the ticked items.
pub fn checklist() -> Schema {
    ArrayBuilder::new()
        .items(text(MAX_SHORT_CHARS))
        .max_items(Some(MAX_CHECKLIST_ITEMS))
        .build()
        .into()
}

/// A report's attachments' ids.
pub fn attachments() -> Schema {
    ArrayBuilder::new()
        .items(uuid())
        .max_items(Some(MAX_ATTACHMENTS))
        .build()
        .into()
}

/// What an incident led to: each consequence at most once.
pub fn consequences() -> Schema {
    ArrayBuilder::new()
        .items(Consequence::schema())
        .max_items(Some(Consequence::ALL.len()))
        .description(Some("What it led to."))
        .build()
        .into()
}

/// A string that is one of `names`.
pub fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    string().enum_values(Some(names)).into()
}

/// A timeline entry's kind: an [`EventKind`]'s name.
pub fn event_kind() -> Schema {
    string()
        .enum_values(Some(EventKind::ALL.iter().map(|k| k.as_str())))
        .build()
        .into()
}

/// A problem's `type`: one of [`ProblemType::ALL`].
pub fn problem_type() -> Schema {
    string()
        .enum_values(Some(ProblemType::ALL.iter().map(|k| k.urn())))
        .description(Some(
            "The kind of problem (`varn_core::wire::ProblemType`).",
        ))
        .build()
        .into()
}

impl PartialSchema for Count {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .item(string().enum_values(Some([Count::HIDDEN])))
            .description(Some(format!(
                "A count, or \"{}\": no count above 0 and below {MIN_SHOWN} is shown, nor one that \
                 would give such a count away, alone, beside the others or beside the answer a \
                 month shorter at either end (`varn_core::stats::suppress`).",
                Count::HIDDEN
            )))
            .into()
    }
}

impl ToSchema for Count {}
