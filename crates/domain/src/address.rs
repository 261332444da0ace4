//! Email addresses as this service accepts them from a token's `email` claim: plain ASCII
//! `local@domain` in the common dot-atom form (no quoted local parts, no address literals, no
//! internationalised addresses, which SES cannot send to in that form anyway), and the one way
//! two addresses are compared: ASCII lower case, nothing trimmed or folded.

/// The longest address SMTP carries (RFC 5321's path limit less its angle brackets).
const MAX_LEN: usize = 254;
/// The longest local part (RFC 5321 § 4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;
/// The longest label of a domain name (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// `raw` when it is an address mail can be sent to, exactly as given (no trimming: an address
/// with spaces around it is not an address); `None` otherwise.
pub fn parse(raw: &str) -> Option<&str> {
    if raw.is_empty() || raw.len() > MAX_LEN || !raw.is_ascii() {
        return None;
    }
    let (local, domain) = raw.rsplit_once('@')?;
    (valid_local(local) && valid_domain(domain)).then_some(raw)
}

/// The form two addresses are compared in: ASCII letters lower-cased, every other byte as it is
/// (Unicode case folding would let `K`, the Kelvin sign, stand for `k`). `None` for anything
/// [`parse`] refuses.
pub fn comparable(raw: &str) -> Option<String> {
    parse(raw).map(str::to_ascii_lowercase)
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // A top-level domain is letters, or an internationalised one's `xn--` form.
        && tld.len() >= 2
        && (tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_addresses_are_accepted_as_given() {
        for good in [
            "ada@example.com",
            "Ada.Lovelace+gemz@Mail.Example.co.uk",
            "o'brien@example.ie",
            "x@xn--bcher-kva.example",
            "a_b-c@sub-domain.example.org",
        ] {
            assert_eq!(parse(good), Some(good), "{good}");
        }
    }

    #[test]
    fn what_is_not_a_sendable_address_is_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_address = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            "not-an-address",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@example",
            "ada@example.c",
            "ada@example.123",
            "ada@-example.com",
            "ada@example-.com",
            "ada@exa_mple.com",
            "ada@example..com",
            ".ada@example.com",
            "ada.@example.com",
            "a..da@example.com",
            "ada lovelace@example.com",
            " ada@example.com",
            "ada@example.com ",
            "ada@example.com\n",
            "\"ada\"@example.com",
            "ada@[127.0.0.1]",
            "a@b@example.com",
            "\u{212A}ate@example.com",
            "ada@exämple.com",
            long_local.as_str(),
            long_address.as_str(),
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn comparison_lowers_ascii_letters_only() {
        assert_eq!(comparable("BOSS@Gemz.IO").as_deref(), Some("boss@gemz.io"));
        assert_eq!(comparable("BOSS@Gemz.IO "), None);
        assert_eq!(comparable("\u{212A}ate@gemz.io"), None);
    }
}
