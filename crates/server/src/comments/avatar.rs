//! Avatars made here, never fetched: an identicon drawn from a keyed hash of the
//! commenter's email (SPEC.md 4). The key is the site's signing key
//! ([`crate::signing`]), so the picture says "the same commenter as before" without
//! the page carrying the email, a plain hash of it (which anyone could match against a
//! list of addresses, as Gravatar hashes are), or any URL at all: the SVG is inline.

use crate::signing::SigningKey;

/// Cells per side; the left half is mirrored onto the right, as classic identicons do.
const GRID: usize = 5;

/// The inline SVG identicon for `email`. An empty email (an erased commenter) gets the
/// same plain picture as every other erased one.
pub fn identicon(key: &SigningKey, email: &str) -> String {
    // The signature is hex: one nibble per character.
    let nibbles: Vec<u32> = key
        .sign(&format!("avatar:{email}"))
        .chars()
        .filter_map(|c| c.to_digit(16))
        .collect();
    let hue = (nibbles[0] << 8 | nibbles[1] << 4 | nibbles[2]) % 360;
    let half = GRID.div_ceil(2);
    let mut cells = String::new();
    for row in 0..GRID {
        for col in 0..half {
            let bit = row * half + col;
            if nibbles[3 + bit / 4] >> (bit % 4) & 1 == 0 {
                continue;
            }
            let mirror = GRID - 1 - col;
            for x in if mirror == col {
                vec![col]
            } else {
                vec![col, mirror]
            } {
                cells.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{row}\" width=\"1\" height=\"1\"/>"
                ));
            }
        }
    }
    format!(
        "<svg class=\"avatar\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"-0.5 -0.5 6 6\" \
         width=\"48\" height=\"48\" aria-hidden=\"true\" focusable=\"false\">\
         <rect x=\"-0.5\" y=\"-0.5\" width=\"6\" height=\"6\" fill=\"hsl({hue} 30% 94%)\"/>\
         <g fill=\"hsl({hue} 55% 42%)\">{cells}</g></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_email_same_picture_and_the_key_matters() {
        let key = SigningKey::from_bytes([7; 32]);
        let ann = identicon(&key, "ann@example.net");
        assert_eq!(ann, identicon(&key, "ann@example.net"));
        assert_ne!(ann, identicon(&key, "bob@example.net"));
        assert_ne!(
            ann,
            identicon(&SigningKey::from_bytes([8; 32]), "ann@example.net")
        );
        assert!(!ann.contains("ann") && !ann.contains('@'));
        assert!(ann.starts_with("<svg") && ann.ends_with("</svg>"));
    }
}
