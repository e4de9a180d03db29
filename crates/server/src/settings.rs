//! Changing one site setting by name, for `broadsheet settings set KEY VALUE` and the
//! admin's settings form: the value is parsed for its key and the whole
//! settings are validated, so a bad value names its key and changes nothing.

use broadsheet_domain::{SiteSettings, ValidationErrors};

/// The keys `set` understands, in the order `settings show` prints them.
pub const KEYS: &[&str] = &[
    "title",
    "description",
    "time_zone",
    "language",
    "words_per_minute",
    "cjk_chars_per_minute",
    "per_page",
];

pub fn set(settings: &mut SiteSettings, key: &str, value: &str) -> Result<(), ValidationErrors> {
    let mut changed = settings.clone();
    let number = || {
        value.trim().parse::<u32>().map_err(|_| {
            ValidationErrors::single(key, format!("\"{value}\" is not a whole number"))
        })
    };
    match key {
        "title" => changed.title = value.trim().to_owned(),
        "description" => changed.description = value.trim().to_owned(),
        "time_zone" => changed.time_zone = value.trim().to_owned(),
        "language" => changed.language = value.trim().to_owned(),
        "words_per_minute" => changed.reading_speed.words_per_minute = number()?,
        "cjk_chars_per_minute" => changed.reading_speed.cjk_chars_per_minute = number()?,
        "per_page" => changed.per_page = number()?,
        _ => {
            return Err(ValidationErrors::single(
                key,
                format!("is not a setting; known settings: {}", KEYS.join(", ")),
            ));
        }
    }
    changed.validate()?;
    *settings = changed;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_known_keys_and_names_bad_ones() {
        let mut s = SiteSettings::default();
        set(&mut s, "title", " The Harbour Gazette ").unwrap();
        set(&mut s, "per_page", "20").unwrap();
        set(&mut s, "time_zone", "Europe/Berlin").unwrap();
        assert_eq!((s.title.as_str(), s.per_page), ("The Harbour Gazette", 20));
        let before = s.clone();
        assert!(
            set(&mut s, "colour", "red")
                .unwrap_err()
                .for_field("colour")
                .is_some()
        );
        assert!(
            set(&mut s, "per_page", "lots")
                .unwrap_err()
                .for_field("per_page")
                .is_some()
        );
        assert!(
            set(&mut s, "time_zone", "Mars/Base")
                .unwrap_err()
                .for_field("time_zone")
                .is_some()
        );
        assert_eq!(s, before, "a refused value changes nothing");
    }
}
