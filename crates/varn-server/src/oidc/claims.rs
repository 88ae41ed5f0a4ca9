//! What the identity provider's claims mean for Värn: the role its groups give, and whether
//! the sign-in was strong enough. Pure rules, each written once.

use crate::store::OfficerRole;

/// The groups an ID token's `claim` lists: an array of strings, or one string.
pub fn groups(claim: Option<&serde_json::Value>) -> Vec<String> {
    match claim {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The role the groups give: handläggare if any of them is a handläggare group, else läsare
/// if any is a läsare group, else none (the person may not use the dashboard).
pub fn role_for(groups: &[String], handlers: &[String], readers: &[String]) -> Option<OfficerRole> {
    let any = |wanted: &[String]| groups.iter().any(|g| wanted.contains(g));
    if any(handlers) {
        Some(OfficerRole::Handler)
    } else if any(readers) {
        Some(OfficerRole::Reader)
    } else {
        None
    }
}

/// Whether the sign-in meets the region's level: the token's `acr` one of `acr_values`
/// (when the region names any), and one of `required_amr` among its `amr` (when it names
/// any). With neither named, every sign-in the provider makes is enough.
pub fn strong_enough(
    acr: Option<&str>,
    amr: &[String],
    acr_values: &[String],
    required_amr: &[String],
) -> Result<(), String> {
    if !acr_values.is_empty() && !acr.is_some_and(|a| acr_values.iter().any(|v| v == a)) {
        return Err(format!(
            "acr {} is not one of {acr_values:?}",
            acr.unwrap_or("(none)")
        ));
    }
    if !required_amr.is_empty() && !amr.iter().any(|m| required_amr.contains(m)) {
        return Err(format!("amr {amr:?} has none of {required_amr:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_highest_role_any_group_gives_and_none_without_a_listed_group() {
        let (handlers, readers) = (s(&["sec-handlers"]), s(&["sec-readers"]));
        assert_eq!(
            role_for(&s(&["sec-readers", "sec-handlers"]), &handlers, &readers),
            Some(OfficerRole::Handler)
        );
        assert_eq!(
            role_for(&s(&["x", "sec-readers"]), &handlers, &readers),
            Some(OfficerRole::Reader)
        );
        assert_eq!(role_for(&s(&["x"]), &handlers, &readers), None);
        assert_eq!(role_for(&[], &handlers, &readers), None);
        assert_eq!(
            role_for(&s(&["SEC-HANDLERS"]), &handlers, &readers),
            None,
            "exact"
        );
    }

    #[test]
    fn groups_are_read_from_a_list_or_one_string_and_nothing_else() {
        assert_eq!(
            groups(Some(&serde_json::json!(["a", 1, "b"]))),
            s(&["a", "b"])
        );
        assert_eq!(groups(Some(&serde_json::json!("a"))), s(&["a"]));
        assert_eq!(
            groups(Some(&serde_json::json!({"a": 1}))),
            Vec::<String>::new()
        );
        assert_eq!(groups(None), Vec::<String>::new());
    }

    #[test]
    fn a_sign_in_is_strong_enough_only_with_a_listed_acr_and_amr() {
        let mfa = s(&["urn:mfa"]);
        assert!(strong_enough(Some("urn:mfa"), &[], &mfa, &[]).is_ok());
        assert!(strong_enough(Some("urn:password"), &[], &mfa, &[]).is_err());
        assert!(strong_enough(None, &[], &mfa, &[]).is_err());
        assert!(strong_enough(None, &s(&["pwd", "mfa"]), &[], &s(&["mfa"])).is_ok());
        assert!(strong_enough(None, &s(&["pwd"]), &[], &s(&["mfa"])).is_err());
        assert!(strong_enough(Some("urn:mfa"), &s(&["pwd"]), &mfa, &s(&["mfa"])).is_err());
        assert!(
            strong_enough(None, &[], &[], &[]).is_ok(),
            "nothing required"
        );
    }
}
