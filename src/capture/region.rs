//! Whether a submission comes from the EU (for consent purposes), decided from an explicit
//! flag first, then from the country code.
//!
//! "EU" here means "a place whose data-protection law asks for explicit consent before
//! marketing": the EU 27 (with their outermost regions and Åland, which carry their own ISO
//! codes), the EEA (Iceland, Liechtenstein, Norway), the United Kingdom (UK GDPR) and its
//! Crown dependencies and Gibraltar (each with a GDPR-modelled law), and Switzerland (revised
//! FADP). Counting the non-EU members of that list as EU is the conservative choice: the only
//! cost of a wrong "EU" is a contact that is created without being subscribed.

/// Where a submission comes from, for the consent rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Eu,
    NonEu,
    /// Neither an `eu` flag nor a country: the job's `unknown_region` setting decides.
    Unknown,
}

impl Region {
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::NonEu => "non_eu",
            Region::Unknown => "unknown",
        }
    }
}

/// The ISO 3166-1 alpha-2 codes treated as EU, grouped by why.
pub const EU_COUNTRIES: &[&str] = &[
    // The 27 member states of the European Union.
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    // EU territory with its own ISO code: French outermost regions, Saint-Martin, Åland.
    "GF", "GP", "MQ", "RE", "YT", "MF", "AX",
    // The rest of the EEA, where the GDPR applies too.
    "IS", "LI", "NO",
    // The United Kingdom (UK GDPR), its Crown dependencies and Gibraltar.
    "GB", "GG", "JE", "IM", "GI",
    // Switzerland (revised Federal Act on Data Protection).
    "CH",
    // Codes that are not countries but name EU places: the EU itself, Greece as the EU
    // spells it, the UK as it is often written, the Canary Islands, Ceuta and Melilla.
    "EU", "EL", "UK", "IC", "EA",
];

/// Whether the two-letter `country` code (any case) is treated as EU.
pub fn is_eu_country(country: &str) -> bool {
    let code = country.trim().to_ascii_uppercase();
    EU_COUNTRIES.contains(&code.as_str())
}

/// The region of a submission: the explicit flag wins; otherwise the country decides; with
/// neither, the region is unknown.
pub fn region_of(eu_flag: Option<bool>, country: Option<&str>) -> Region {
    match (eu_flag, country) {
        (Some(true), _) => Region::Eu,
        (Some(false), _) => Region::NonEu,
        (None, Some(code)) if is_eu_country(code) => Region::Eu,
        (None, Some(_)) => Region::NonEu,
        (None, None) => Region::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_country() {
        assert_eq!(region_of(Some(false), Some("FR")), Region::NonEu);
        assert_eq!(region_of(Some(true), Some("US")), Region::Eu);
        assert_eq!(region_of(Some(true), None), Region::Eu);
    }

    #[test]
    fn the_country_decides_without_a_flag() {
        for code in ["FR", "de", "IS", "NO", "GB", "uk", "CH", "GP", "EL"] {
            assert_eq!(region_of(None, Some(code)), Region::Eu, "{code}");
        }
        for code in ["US", "CA", "BR", "JP", "TR", "RS"] {
            assert_eq!(region_of(None, Some(code)), Region::NonEu, "{code}");
        }
        assert_eq!(region_of(None, None), Region::Unknown);
    }

    #[test]
    fn the_list_holds_the_whole_eu_once() {
        let mut codes = EU_COUNTRIES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), EU_COUNTRIES.len(), "no code twice");
        assert_eq!(EU_COUNTRIES[..27].len(), 27);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        );
    }
}
