//! The follow-up fields of an incident report, in the categories of Brå's *Politikernas
//! trygghetsundersökning* (PTU), so that a region's figures line up with the national survey
//! without re-coding: the kind of event, the channel, the perpetrator, the consequences and
//! why it was not reported to the police. Each list is defined here once, with its wire name
//! and its Swedish and English label; the app's form, the police export, the server's
//! statistics, the CSV and the API description all read it from here.

use serde::{Deserialize, Serialize};

/// A closed list with a wire name and a label in Swedish and English for each member.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $old:literal)?, $sv:literal, $en:literal;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire $(, alias = $old)?)] $variant,)+
        }

        // Its wire names, from `ALL` (a derive would not see the renames a macro writes).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::names(Self::ALL.iter().map(|x| x.as_str()))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            /// Every member, in the order forms and charts show them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The name on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// The member of that name (or of the name it had before a rename), if it is one.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($wire $(| $old)? => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The label: Swedish, English.
            pub fn labels(self) -> (&'static str, &'static str) {
                match self { $($name::$variant => ($sv, $en),)+ }
            }
        }
    };
}

vocabulary! {
    /// PTU's three kinds of event.
    EventType {
        /// Hot och trakasserier.
        ThreatHarassment = "threat_harassment", "Hot och trakasserier", "Threats and harassment";
        /// Våld, skadegörelse och stöld.
        ViolenceDamageTheft = "violence_damage_theft", "Våld, skadegörelse eller stöld", "Violence, damage or theft";
        /// Korruptionsförsök: vänskapskorruption, mutförsök. Brå's *otillåten påverkan* is the
        /// umbrella over all three kinds, so it is not this one's name. Reports written before
        /// the rename say `improper_influence`; [`EventType::parse`] and serde still read it.
        Corruption = "corruption" | "improper_influence", "Korruptionsförsök (t.ex. mutförsök, vänskapskorruption)", "Attempted corruption (e.g. bribery, corruption through friendship)";
    }
}

vocabulary! {
    /// How it reached the person.
    Channel {
        /// Sociala medier.
        SocialMedia = "social_media", "Sociala medier", "Social media";
        /// Direkt kontakt, på plats.
        InPerson = "in_person", "Direkt kontakt, på plats", "In person";
        /// Telefon.
        Phone = "phone", "Telefon", "Phone";
        /// Sms.
        TextMessage = "text_message", "Sms", "Text message";
        /// E-post.
        Email = "email", "E-post", "E-mail";
        /// Brev.
        Letter = "letter", "Brev", "Letter";
        /// Annat.
        Other = "other", "Annat", "Other";
    }
}

vocabulary! {
    /// Who did it, as far as the person knows.
    Perpetrator {
        /// PTU's most frequent kind: a querulant or an angry citizen.
        AggrievedCitizen = "aggrieved_citizen", "En rättshaverist eller förargad medborgare", "A querulant or an aggrieved citizen";
        /// Another individual the official does not know.
        UnknownPerson = "unknown_person", "En annan enskild person som jag inte känner", "Another individual I don't know";
        /// Another individual the official knows.
        KnownPerson = "known_person", "En annan enskild person som jag känner till", "Another individual I know";
        /// Right-wing extremists (Brå 2023, *systemhotande aktörer*).
        RightWingExtremists = "right_wing_extremists", "Högerextremister", "Right-wing extremists";
        /// Left-wing extremists.
        LeftWingExtremists = "left_wing_extremists", "Vänsterextremister", "Left-wing extremists";
        /// Religious extremists.
        ReligiousExtremists = "religious_extremists", "Religiösa extremister", "Religious extremists";
        /// A criminal network or grouping.
        CriminalNetwork = "criminal_network", "Ett kriminellt nätverk eller en kriminell gruppering", "A criminal network or grouping";
        /// An environmental or animal-rights group.
        EnvironmentalAnimalRights = "environmental_animal_rights", "En miljö- eller djurrättsgrupp", "An environmental or animal-rights group";
        /// Another organised group (before the split, every organised kind was this one).
        Organised = "organised", "En annan organiserad grupp", "Another organised group";
        /// Not known who: one or several, known or not.
        Unknown = "unknown", "Vet inte vem", "Don't know who";
    }
}

vocabulary! {
    /// What it led to (several may apply).
    Consequence {
        /// Avstått från att uttala sig.
        RefrainedFromSpeaking = "refrained_from_speaking", "Avstått från att uttala mig eller engagera mig i en fråga", "Refrained from speaking or engaging in an issue";
        /// Övervägt att lämna uppdraget.
        ConsideredLeaving = "considered_leaving", "Övervägt att lämna uppdraget", "Considered leaving the assignment";
        /// Changed routines or avoided places.
        ChangedRoutines = "changed_routines", "Ändrat vanor eller undvikit platser", "Changed routines or avoided places";
        /// Worry or fear.
        Fear = "fear", "Oro eller rädsla", "Worry or fear";
        /// The family was affected.
        FamilyAffected = "family_affected", "Det har påverkat min familj", "It affected my family";
        /// Annat.
        Other = "other", "Annat", "Other";
    }
}

vocabulary! {
    /// Why it was not reported to the police.
    NotReportedReason {
        /// Unsure whether it is a crime (the plan answers it: report whatever causes fear, the
        /// police judge the law).
        UnsureIfCrime = "unsure_if_crime", "Osäker på om det är ett brott", "Unsure whether it is a crime";
        /// Not serious enough.
        NotSerious = "not_serious", "Inte tillräckligt allvarligt", "Not serious enough";
        /// It would lead nowhere.
        Pointless = "pointless", "Tror inte att det leder till något", "Don't think it would lead anywhere";
        /// Fear of what would follow.
        FearOfConsequences = "fear_of_consequences", "Rädsla för följderna", "Fear of what would follow";
        /// Seen as part of the assignment.
        PartOfTheJob = "part_of_the_job", "Det hör till uppdraget", "It comes with the assignment";
        /// Annat.
        Other = "other", "Annat", "Other";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_round_trips_its_wire_names_and_has_both_labels() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            name: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
            labels: fn(T) -> (&'static str, &'static str),
        ) {
            let mut seen = std::collections::HashSet::new();
            for &x in all {
                assert_eq!(parse(name(x)), Some(x));
                assert_eq!(serde_json::to_value(x).unwrap(), name(x));
                assert!(seen.insert(name(x)), "{} twice", name(x));
                let (sv, en) = labels(x);
                assert!(!sv.is_empty() && !en.is_empty());
            }
            assert_eq!(parse("nonsense"), None);
        }
        check(
            EventType::ALL,
            EventType::as_str,
            EventType::parse,
            EventType::labels,
        );
        check(
            Channel::ALL,
            Channel::as_str,
            Channel::parse,
            Channel::labels,
        );
        check(
            Perpetrator::ALL,
            Perpetrator::as_str,
            Perpetrator::parse,
            Perpetrator::labels,
        );
        check(
            Consequence::ALL,
            Consequence::as_str,
            Consequence::parse,
            Consequence::labels,
        );
        check(
            NotReportedReason::ALL,
            NotReportedReason::as_str,
            NotReportedReason::parse,
            NotReportedReason::labels,
        );
        assert_eq!(EventType::ALL.len(), 3, "PTU measures three kinds of event");
    }

    #[test]
    fn a_report_with_the_old_name_of_corruption_still_reads() {
        assert_eq!(
            EventType::parse("improper_influence"),
            Some(EventType::Corruption)
        );
        let old: EventType = serde_json::from_str("\"improper_influence\"").unwrap();
        assert_eq!(old, EventType::Corruption);
        assert_eq!(
            serde_json::to_value(old).unwrap(),
            "corruption",
            "written back under its new name"
        );
    }
}
