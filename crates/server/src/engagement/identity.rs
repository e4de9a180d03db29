//! Who is engaging (SPEC.md 4): a reader, known by a random first-party cookie, and a
//! network, known by a keyed, daily-salted hash of the client's address and user agent.
//!
//! Raw addresses live only in local variables of one request: they are hashed here and
//! never stored, logged or handed to the store. The hash key is the day's salt, which
//! every node shares through the store and which is deleted after two days, so a hash
//! cannot be traced back to an address by trying all of them for long.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};
use broadsheet_domain::{NetworkHash, ReaderId, Store};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;

use crate::error::AppError;

/// The reader cookie's name.
pub const COOKIE: &str = "bs_reader";

/// A year: long enough that a returning reader keeps their votes, below the 400 days
/// browsers cap cookies at.
const COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 60 * 60;

/// The peer when the router runs without a socket (in-process tests, or a server that
/// did not use `into_make_service_with_connect_info`): an unknown peer, never trusted
/// as a proxy unless an operator trusts `0.0.0.0` itself. Every such request shares one
/// network, which errs on the side of stricter limits.
pub const UNKNOWN_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The reader of one request.
#[derive(Debug, Clone)]
pub struct Reader {
    pub id: ReaderId,
    /// Drawn for this request: the response must set the cookie.
    pub is_new: bool,
}

/// The reader id in the request's cookie, if it holds a valid one.
pub fn reader_from_headers(headers: &HeaderMap) -> Option<ReaderId> {
    crate::cookies::value(headers, COOKIE).and_then(ReaderId::parse)
}

/// The user agent, as sent (empty when absent).
pub fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Per-node identity: trusted proxies, cookie attributes and the day's hash key.
pub struct Identity {
    trusted_proxies: Vec<IpNet>,
    /// `Secure` cookies when the site is served over HTTPS.
    secure: bool,
    /// The day's keyed HMAC, cloned per hash (cheaper than keying again).
    key: Mutex<Option<(NaiveDate, Hmac<Sha256>)>>,
}

impl Identity {
    pub fn new(trusted_proxies: Vec<IpNet>, base_url: &str) -> Identity {
        Identity {
            trusted_proxies,
            secure: base_url.starts_with("https://"),
            key: Mutex::new(None),
        }
    }

    /// The request's reader: the cookie's, or a new random one.
    pub fn reader(&self, headers: &HeaderMap) -> Result<Reader, AppError> {
        match reader_from_headers(headers) {
            Some(id) => Ok(Reader { id, is_new: false }),
            None => Ok(Reader {
                id: ReaderId::from_bytes(random()?),
                is_new: true,
            }),
        }
    }

    /// The `Set-Cookie` value that gives a new reader their id. HttpOnly because no
    /// script needs it; SameSite=Lax so other sites' pages cannot vote in the reader's
    /// name; Path=/ because the widgets post to /articles/ and the API is under /api/.
    pub fn cookie(&self, reader: &ReaderId) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!(
            "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Lax{secure}",
            reader.as_str()
        );
        // The id is 32 hex digits, so the value is always a valid header.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The client's address: the socket's peer, unless that peer is a trusted proxy.
    /// Then `X-Forwarded-For` is read from the right (the entry the nearest proxy
    /// added) leftwards, skipping trusted proxies, and the first other address is the
    /// client. Entries further left were written by the client itself and prove
    /// nothing. An unreadable entry stops the walk at the last address we could trust.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for entry in entries.iter().rev() {
            match parse_forwarded(entry) {
                Some(ip) => {
                    client = ip;
                    if !self.is_trusted(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The network hash of a client on `day`: HMAC-SHA256 keyed by the day's salt over
    /// the network part of the address and the user agent.
    pub async fn network(
        &self,
        store: &dyn Store,
        day: NaiveDate,
        ip: IpAddr,
        user_agent: &str,
    ) -> Result<NetworkHash, AppError> {
        let mut mac = self.key_for(store, day).await?;
        match network_part(ip) {
            IpAddr::V4(v4) => {
                mac.update(b"4");
                mac.update(&v4.octets());
            }
            IpAddr::V6(v6) => {
                mac.update(b"6");
                mac.update(&v6.octets());
            }
        }
        mac.update(b"\0");
        mac.update(user_agent.as_bytes());
        let digest = mac.finalize().into_bytes();
        Ok(NetworkHash(hex(&digest[..16])))
    }

    /// The day's keyed HMAC, from this node's cache or, once a day, from the store
    /// (the first node to ask proposes its random candidate; everyone gets the same).
    async fn key_for(&self, store: &dyn Store, day: NaiveDate) -> Result<Hmac<Sha256>, AppError> {
        if let Some((cached_day, mac)) = &*self.lock()
            && *cached_day == day
        {
            return Ok(mac.clone());
        }
        // Several requests may get here at a day's start; they all receive the same
        // salt from the store, so the race only costs a few queries.
        let salt = store
            .network_salt(day, random()?)
            .await
            .map_err(AppError::from)?;
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&salt).map_err(AppError::internal)?;
        let mut cached = self.lock();
        // Never step back to an older day if a later one was cached meanwhile.
        if cached.as_ref().is_none_or(|(d, _)| *d <= day) {
            *cached = Some((day, mac.clone()));
        }
        Ok(mac)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(NaiveDate, Hmac<Sha256>)>> {
        // Each critical section is one assignment or clone: a poisoned lock is fine.
        self.key.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, from dual-stack sockets) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What identifies a network: an IPv4 address, or the /64 of an IPv6 address (one
/// subscriber line gets a whole /64, and could otherwise pick a new address per vote).
fn network_part(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5`,
/// `[2001:db8::1]:5`), as some proxies write it.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cookies_are_read_strictly() {
        let id = "0123456789abcdef0123456789abcdef";
        let h = headers(&[("cookie", &format!("theme=dark; {COOKIE}={id}; x=1"))]);
        assert_eq!(reader_from_headers(&h).unwrap().as_str(), id);
        for bad in [
            format!("{COOKIE}=../../etc"),
            format!("{COOKIE}={}", id.to_uppercase()),
            format!("x{COOKIE}={id}"),
            String::new(),
        ] {
            assert!(reader_from_headers(&headers(&[("cookie", &bad)])).is_none());
        }
        // HTTP/2 may split cookies over several headers.
        let h = headers(&[("cookie", "a=b"), ("cookie", &format!("{COOKIE}={id}"))]);
        assert!(reader_from_headers(&h).is_some());
    }

    #[test]
    fn cookie_attributes() {
        let id = ReaderId::from_bytes([7; 16]);
        let plain = Identity::new(vec![], "http://localhost:8080").cookie(&id);
        let text = plain.to_str().unwrap();
        assert!(
            text.starts_with(&format!("{COOKIE}={}", id.as_str())),
            "{text}"
        );
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
        let secure = Identity::new(vec![], "https://news.example.com").cookie(&id);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let identity = Identity::new(vec![], "http://x");
        let h = headers(&[("x-forwarded-for", "203.0.113.77")]);
        assert_eq!(identity.client_ip(ip("10.1.2.3"), &h), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_for_from_trusted_proxies_is_read_from_the_right() {
        let identity = Identity::new(
            vec![
                "10.0.0.0/8".parse().unwrap(),
                "192.0.2.1/32".parse().unwrap(),
            ],
            "http://x",
        );
        let peer = ip("10.0.0.5");
        // The client wrote a fake first entry; the proxies appended the real one.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.77, 192.0.2.1")]);
        assert_eq!(identity.client_ip(peer, &h), ip("203.0.113.77"));
        // Split over two headers, with a port.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "203.0.113.77:4431"),
        ]);
        assert_eq!(identity.client_ip(peer, &h), ip("203.0.113.77"));
        // Garbage stops the walk at the last address we could trust.
        let h = headers(&[("x-forwarded-for", "203.0.113.77, nonsense, 10.9.9.9")]);
        assert_eq!(identity.client_ip(peer, &h), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(identity.client_ip(peer, &HeaderMap::new()), peer);
        // Mapped IPv6 peers match IPv4 ranges.
        assert_eq!(
            identity.client_ip(
                ip("::ffff:10.0.0.5"),
                &headers(&[("x-forwarded-for", "203.0.113.9")])
            ),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv6_networks_are_their_slash_64() {
        assert_eq!(
            network_part(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(network_part(ip("::ffff:192.0.2.3")), ip("192.0.2.3"));
    }
}
