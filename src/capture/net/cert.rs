//! What a server certificate says, for the `open` record and TLS error messages: subject, issuer,
//! the names it holds (subjectAltName DNS names and IP addresses) and its validity dates.
//!
//! A small DER reader of the few X.509 fields shown, not a validator: rustls and webpki do the
//! verification. (x509-parser would bring some fifteen crates, bignums and proc macros, for four
//! fields.) Anything it cannot read is left out, never an error.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The facts of a certificate an inspector shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CertFacts {
    /// `CN=example.test, O=Example`.
    pub subject: String,
    /// The issuer's name, same form.
    pub issuer: String,
    /// subjectAltName entries: DNS names as they are, IP addresses in their usual text form.
    pub names: Vec<String>,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: Option<i64>,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: Option<i64>,
}

impl CertFacts {
    /// Reads a DER certificate; `None` when it is not one.
    pub(crate) fn parse(der: &[u8]) -> Option<CertFacts> {
        let (_, cert, _) = tlv(der)?;
        let (_, tbs, _) = tlv(cert)?;
        let mut rest = tbs;
        let (tag, _, r) = tlv(rest)?;
        if tag == 0xa0 {
            rest = r; // version
        }
        let (_, _, r) = tlv(rest)?; // serial
        let (_, _, r) = tlv(r)?; // signature algorithm
        let (_, issuer, r) = tlv(r)?;
        let (_, validity, r) = tlv(r)?;
        let (_, subject, r) = tlv(r)?;
        let (_, _, mut r) = tlv(r)?; // subject public key info
        let mut facts = CertFacts {
            subject: name(subject),
            issuer: name(issuer),
            ..CertFacts::default()
        };
        if let Some((t1, v1, after)) = tlv(validity) {
            facts.not_before = time(t1, v1);
            facts.not_after = tlv(after).and_then(|(t2, v2, _)| time(t2, v2));
        }
        while let Some((tag, value, next)) = tlv(r) {
            if tag == 0xa3 {
                facts.names = alt_names(value).unwrap_or_default();
            }
            r = next;
        }
        Some(facts)
    }

    /// Whole days from `now` (seconds since the epoch) to the end of validity; negative once expired.
    pub(crate) fn days_left(&self, now: i64) -> Option<i64> {
        self.not_after.map(|t| (t - now).div_euclid(86_400))
    }
}

/// One DER element: (tag, value, what follows).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, start) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, b.get(start..end)?, b.get(end..)?))
}

/// A Name as `CN=…, O=…` in the order it is encoded.
fn name(mut b: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((_, set, next)) = tlv(b) {
        let mut s = set;
        while let Some((_, atv, after)) = tlv(s) {
            if let Some((_, oid, rest)) = tlv(atv)
                && let Some((_, value, _)) = tlv(rest)
            {
                let label = match oid {
                    [0x55, 0x04, 0x03] => "CN".to_owned(),
                    [0x55, 0x04, 0x06] => "C".to_owned(),
                    [0x55, 0x04, 0x07] => "L".to_owned(),
                    [0x55, 0x04, 0x08] => "ST".to_owned(),
                    [0x55, 0x04, 0x0a] => "O".to_owned(),
                    [0x55, 0x04, 0x0b] => "OU".to_owned(),
                    _ => dotted_oid(oid),
                };
                parts.push(format!("{label}={}", String::from_utf8_lossy(value)));
            }
            s = after;
        }
        b = next;
    }
    parts.join(", ")
}

/// An attribute type without a short name, by its dotted OID.
fn dotted_oid(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc = 0u64;
    for &byte in oid {
        acc = (acc << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if parts.is_empty() {
                parts.push(acc.min(80) / 40);
                parts.push(acc - parts[0] * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The subjectAltName entries in the extensions' `[3]` element.
fn alt_names(ext: &[u8]) -> Option<Vec<String>> {
    let (_, mut list, _) = tlv(ext)?;
    while let Some((_, ext, next)) = tlv(list) {
        let (_, oid, mut rest) = tlv(ext)?;
        if oid == [0x55, 0x1d, 0x11] {
            let (tag, _, r) = tlv(rest)?;
            if tag == 0x01 {
                rest = r; // the `critical` flag
            }
            // extnValue: an OCTET STRING holding the GeneralNames SEQUENCE.
            let (_, octets, _) = tlv(rest)?;
            return Some(general_names(tlv(octets)?.1));
        }
        list = next;
    }
    None
}

fn general_names(mut b: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    while let Some((tag, v, next)) = tlv(b) {
        match tag {
            0x82 => names.push(String::from_utf8_lossy(v).into_owned()),
            0x87 => {
                if let Ok(a) = <[u8; 4]>::try_from(v) {
                    names.push(Ipv4Addr::from(a).to_string());
                } else if let Ok(a) = <[u8; 16]>::try_from(v) {
                    names.push(Ipv6Addr::from(a).to_string());
                }
            }
            _ => {}
        }
        b = next;
    }
    names
}

/// `UTCTime` (`YYMMDDHHMMSSZ`) or `GeneralizedTime` (`YYYYMMDDHHMMSSZ`) as seconds since the epoch.
fn time(tag: u8, v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day) = (field(0)?, field(2)?);
    let (h, m, sec) = (field(4)?, field(6)?, field(8)?);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_reads_back() {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().expect("ip")));
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "streamscope test");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params.not_before = rcgen::date_time_ymd(2026, 1, 2);
        params.not_after = rcgen::date_time_ymd(2027, 3, 4);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let facts = CertFacts::parse(cert.der()).expect("parsed");
        assert_eq!(facts.subject, "CN=streamscope test, O=Example");
        assert_eq!(facts.issuer, facts.subject);
        assert_eq!(facts.names, ["localhost", "127.0.0.1"]);
        // 2026-01-02T00:00:00Z and 2027-03-04T00:00:00Z.
        assert_eq!(facts.not_before, Some(1_767_312_000));
        assert_eq!(facts.not_after, Some(1_804_118_400));
        assert_eq!(facts.days_left(1_804_118_400 - 86_400 * 10), Some(10));
        assert_eq!(facts.days_left(1_804_118_400 + 1), Some(-1));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(CertFacts::parse(b""), None);
        assert_eq!(
            CertFacts::parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(CertFacts::parse(&[0x30, 0x03, 0x30, 0x01, 0x02]), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(dotted_oid(&[0x2a, 0x86, 0x48]), "1.2.840");
    }
}
