//! What a CSV column holds, from its header: the localised column names of
//! Outlook (English, German, French, Spanish) and both Google Contacts
//! layouts, plus the consent columns Kontor reads.
//!
//! Columns are recognised by the words of their header, not by position,
//! and metadata columns next to a value are recognised *first*: Outlook puts
//! "E-mail Type" (`SMTP`) and "E-mail Display Name" (`Name (addr)`) beside
//! each address, and neither is an address.

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field {
    FullName,
    Given,
    Middle,
    Family,
    Org,
    /// Job title (not Outlook's "Title", which is the name prefix).
    Title,
    /// A phone column (fax and pager included); `Some(i)` names the column
    /// with its type label, else the header is the kind.
    Phone(Option<usize>, String),
    /// An e-mail column, the same way.
    Email(Option<usize>, String),
    /// A part of a postal address: which address (`work`, `home`, `other`,
    /// Google's `address 1`), and which part.
    Address(String, AddressPart),
    Note,
    Labels,
    Consent,
    Purpose,
    Evidence,
    Ignore,
}

/// A column of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AddressPart {
    /// Google's "Address 1 - Type/Label".
    Label,
    /// Google's one-cell address, used when the parts are empty.
    Formatted,
    PoBox,
    Extended,
    Street,
    Locality,
    Region,
    PostalCode,
    Country,
}

fn has(h: &str, words: &[&str]) -> bool {
    words.iter().any(|w| h.contains(w))
}

/// The header's words: split on anything but letters and digits.
fn words(h: &str) -> Vec<&str> {
    h.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

fn has_word(ws: &[&str], any: &[&str]) -> bool {
    ws.iter().any(|w| any.contains(w))
}

const EMAIL_WORDS: &[&str] = &["e-mail", "email", "mail", "messagerie", "correo"];
/// Beside an e-mail column: its type (`SMTP`, `EX`) or display name.
const EMAIL_META: &[&str] = &[
    "type",
    "typ",
    "display",
    "anzeigename",
    "angezeigter name",
    "nom complet",
    "mostrar",
    "tipo",
];
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telefon",
    "mobil",
    "handy",
    "téléphone",
    "tél.",
    "teléfono",
    "móvil",
    "fax",
    "télécopie",
    "pager",
    "radiomessagerie",
    "localizador",
    "isdn",
    "callback",
    "rückmeldung",
    "tty/tdd",
];

/// Classifies a lower-cased header; `headers` are all of them (for Google's
/// "… - Type" / "… - Label" companions of a "… - Value" column).
pub(super) fn classify(h: &str, headers: &[String]) -> Field {
    let partner = |h: &str| {
        let base = h.strip_suffix(" - value")?;
        [" - type", " - label"]
            .iter()
            .find_map(|s| headers.iter().position(|x| *x == format!("{base}{s}")))
    };
    let kind = |h: &str| {
        h.trim_end_matches(" - value")
            .trim_end_matches(" address")
            .trim_end_matches(": adresse")
            .to_owned()
    };
    if has(h, &["consent purpose", "einwilligungszweck", "zweck"]) {
        return Field::Purpose;
    } else if has(h, &["consent evidence", "nachweis"]) {
        return Field::Evidence;
    } else if has(h, &["consent", "einwilligung"]) {
        return Field::Consent;
    }
    if has(h, &["phonetic", "yomi"]) {
        return Field::Ignore;
    }
    if let Some((group, part)) = address(h) {
        return Field::Address(group, part);
    }
    if matches!(
        h,
        "job title"
            | "position"
            | "organization 1 - title"
            | "organization title"
            | "fonction"
            | "puesto"
            | "cargo"
    ) {
        return Field::Title;
    }
    if matches!(h, "display name" | "anzeigename") {
        return Field::FullName;
    }
    let is_email = has(h, EMAIL_WORDS);
    if has(h, &[" - type", " - label"]) || (is_email && has(h, EMAIL_META)) {
        return Field::Ignore;
    }
    if has(h, PHONE_WORDS) {
        Field::Phone(partner(h), kind(h))
    } else if is_email {
        Field::Email(partner(h), kind(h))
    } else {
        match h {
            "name"
            | "full name"
            | "vollständiger name"
            | "kontakt"
            | "kontaktname"
            | "nom complet"
            | "nombre completo" => Field::FullName,
            "given name" | "first name" | "vorname" | "prénom" | "nombre" => Field::Given,
            "additional name" | "middle name" | "weitere vornamen" | "zweiter vorname"
            | "deuxième prénom" | "segundo nombre" => Field::Middle,
            "family name" | "last name" | "nachname" | "surname" | "nom" | "apellidos" => {
                Field::Family
            }
            "organization 1 - name"
            | "organization name"
            | "organisation"
            | "organization"
            | "company"
            | "firma"
            | "unternehmen"
            | "société"
            | "compañía"
            | "organización"
            | "empresa" => Field::Org,
            "notes" | "note" | "notizen" | "notiz" | "bemerkung" | "bemerkungen" | "notas" => {
                Field::Note
            }
            "group membership" | "labels" | "categories" | "kategorien" | "gruppen"
            | "catégories" | "categorías" => Field::Labels,
            _ => Field::Ignore,
        }
    }
}

/// An address column: Google's "Address 1 - Street", or a part and a type
/// in any order ("Business Street 2", "Straße geschäftlich", "Rue
/// (bureau)", "Código postal del trabajo").
fn address(h: &str) -> Option<(String, AddressPart)> {
    use AddressPart::*;
    if let Some(rest) = h.strip_prefix("address ")
        && let Some((n, part)) = rest.split_once(" - ")
    {
        let part = match part {
            "type" | "label" => Label,
            "formatted" => Formatted,
            "po box" => PoBox,
            "extended address" => Extended,
            "street" => Street,
            "city" => Locality,
            "region" => Region,
            "postal code" => PostalCode,
            "country" => Country,
            _ => return None,
        };
        return Some((format!("address {n}"), part));
    }
    let ws = words(h);
    let group = if has_word(&ws, &["business", "geschäftlich", "bureau", "trabajo"]) {
        "work"
    } else if has_word(&ws, &["home", "privat", "domicile", "domicilio"]) {
        "home"
    } else if has_word(
        &ws,
        &[
            "other", "weitere", "weiterer", "weiteres", "autre", "otra", "otro",
        ],
    ) {
        "other"
    } else {
        return None;
    };
    let part = if has(h, &["po box", "postfach", "b.p.", "apartado"]) {
        PoBox
    } else if has(
        h,
        &[
            "postal code",
            "postleitzahl",
            "code postal",
            "código postal",
            "zip",
        ],
    ) {
        PostalCode
    } else if has_word(&ws, &["country", "land", "pays", "país"]) {
        Country
    } else if has_word(&ws, &["street", "straße", "strasse", "rue", "calle"]) {
        Street
    } else if has_word(&ws, &["city", "ort", "ville", "ciudad"]) {
        Locality
    } else if has_word(
        &ws,
        &["state", "region", "région", "provincia", "bundesland"],
    ) {
        Region
    } else {
        return None;
    };
    Some((group.to_owned(), part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(h: &str) -> Field {
        classify(h, &[h.to_owned()])
    }

    #[test]
    fn outlook_e_mail_metadata_is_not_an_address() {
        for h in [
            "e-mail: angezeigter name",
            "e-mail 2: typ",
            "e-mail-typ",
            "e-mail display name",
            "e-mail 2 type",
            "nom complet de l'adresse de messagerie",
            "type de messagerie 2",
            "nombre para mostrar del correo electrónico",
            "tipo de correo electrónico",
        ] {
            assert_eq!(of(h), Field::Ignore, "{h}");
        }
        for h in [
            "e-mail-adresse",
            "e-mail 2: adresse",
            "e-mail address",
            "adresse de messagerie",
            "dirección de correo electrónico 2",
            "e-mail 1 - value",
        ] {
            assert!(matches!(of(h), Field::Email(..)), "{h}");
        }
    }

    #[test]
    fn fax_pager_and_addresses() {
        for h in [
            "business fax",
            "fax geschäftlich",
            "télécopie (bureau)",
            "pager",
            "localizador",
        ] {
            assert!(matches!(of(h), Field::Phone(..)), "{h}");
        }
        use AddressPart::*;
        let cases = [
            ("business street 2", "work", Street),
            ("straße geschäftlich", "work", Street),
            ("ort privat", "home", Locality),
            ("land/region geschäftlich", "work", Country),
            ("weiteres/r land/region", "other", Country),
            ("postleitzahl privat", "home", PostalCode),
            ("code postal (bureau)", "work", PostalCode),
            ("país o región del trabajo", "work", Country),
            ("home state", "home", Region),
            ("address 1 - city", "address 1", Locality),
        ];
        for (h, group, part) in cases {
            assert_eq!(of(h), Field::Address(group.into(), part), "{h}");
        }
        assert_eq!(of("title"), Field::Ignore, "Outlook's Title is the prefix");
        assert_eq!(of("job title"), Field::Title);
    }
}
