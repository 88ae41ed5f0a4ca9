//! `docs/privacy.md`, the record of processing a region needs for its GDPR register and its
//! impact assessment, names every column of the server's database and every field of the API
//! (what it is, where it is kept, who reads it, how long, how it is deleted). A column or a
//! field added without a line there fails here.

/// The record of processing.
const RECORD: &str = include_str!("../../../docs/privacy.md");

fn missing<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<&'a String> {
    names
        .into_iter()
        .filter(|n| !RECORD.contains(&format!("`{n}`")))
        .collect()
}

#[test]
fn every_column_of_the_servers_database_is_in_the_record_of_processing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = varn_core::sqlite::open_durable(&dir.path().join("s.db")).unwrap();
    varn_core::sqlite::migrate(&mut c, &varn_server::store::migrations::sqlite()).unwrap();
    let columns = varn_core::sqlite::columns(&c).unwrap();
    assert!(columns.len() > 100, "{columns:?}");
    let absent = missing(&columns);
    assert!(
        absent.is_empty(),
        "docs/privacy.md does not name these columns (`table.column`): {absent:#?}"
    );
}

#[test]
fn every_field_of_the_api_is_in_the_record_of_processing() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json");
    let mut fields = Vec::new();
    for (schema, s) in doc["components"]["schemas"].as_object().unwrap() {
        // Its own properties, and those of the parts it is made of (`allOf`).
        let parts = std::iter::once(s).chain(s["allOf"].as_array().into_iter().flatten());
        for part in parts {
            for property in part["properties"].as_object().into_iter().flatten() {
                fields.push(format!("{schema}.{}", property.0));
            }
        }
    }
    assert!(fields.len() > 100, "{fields:?}");
    let absent = missing(&fields);
    assert!(
        absent.is_empty(),
        "docs/privacy.md does not name these API fields (`Schema.field`): {absent:#?}"
    );
}
