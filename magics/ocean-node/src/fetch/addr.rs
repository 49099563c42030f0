//! Which IP addresses the node's URL fetcher may connect to: every address is put in one
//! [`AddrClass`], and only [`AddrClass::Public`] (plus [`AddrClass::Loopback`] on a node that
//! allows it, as the devnet's does) is fetched from. Addresses that embed an IPv4 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are classed by the IPv4 address they carry, so
//! `::ffff:127.0.0.1` is loopback. IPv6 is public only inside global unicast (`2000::/3`) and
//! outside its special ranges. Decimal and octal host spellings (`2130706433`, `0177.0.0.1`) are
//! turned into addresses by the URL parser before they get here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP is, for the fetch policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    /// Globally routable: fetched from.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, shared address space `100.64.0.0/10`, IPv6 site-local, local-use NAT64.
    Private,
    /// `169.254.0.0/16` (cloud metadata lives here), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// Documentation, benchmarking, protocol-assignment, future-use and broadcast ranges, Teredo,
    /// and IPv6 outside global unicast.
    Reserved,
}

impl fmt::Display for AddrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddrClass::Public => "public",
            AddrClass::Loopback => "loopback",
            AddrClass::Private => "private",
            AddrClass::LinkLocal => "link-local",
            AddrClass::UniqueLocal => "unique-local",
            AddrClass::Unspecified => "unspecified",
            AddrClass::Multicast => "multicast",
            AddrClass::Reserved => "reserved",
        })
    }
}

/// Whether the fetcher may connect to an address of class `class`.
pub fn allowed(class: AddrClass, allow_loopback: bool) -> bool {
    match class {
        AddrClass::Public => true,
        AddrClass::Loopback => allow_loopback,
        _ => false,
    }
}

/// The class of `ip`.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    const TABLE: &[([u8; 4], u32, AddrClass)] = &[
        ([0, 0, 0, 0], 8, AddrClass::Unspecified),
        ([127, 0, 0, 0], 8, AddrClass::Loopback),
        ([10, 0, 0, 0], 8, AddrClass::Private),
        ([172, 16, 0, 0], 12, AddrClass::Private),
        ([192, 168, 0, 0], 16, AddrClass::Private),
        ([100, 64, 0, 0], 10, AddrClass::Private),
        ([169, 254, 0, 0], 16, AddrClass::LinkLocal),
        ([192, 0, 0, 0], 24, AddrClass::Reserved),
        ([192, 0, 2, 0], 24, AddrClass::Reserved),
        ([192, 88, 99, 0], 24, AddrClass::Reserved),
        ([198, 18, 0, 0], 15, AddrClass::Reserved),
        ([198, 51, 100, 0], 24, AddrClass::Reserved),
        ([203, 0, 113, 0], 24, AddrClass::Reserved),
        ([224, 0, 0, 0], 4, AddrClass::Multicast),
        ([240, 0, 0, 0], 4, AddrClass::Reserved),
    ];
    TABLE.iter().find(|(net, prefix, _)| in_v4(ip, *net, *prefix)).map(|(_, _, c)| *c).unwrap_or(AddrClass::Public)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if ip.is_unspecified() {
        return AddrClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddrClass::Loopback;
    }
    // Forms that carry an IPv4 address: class by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if in_v6(ip, [0; 8], 96) || in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return classify_v4(low_v4(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let embedded = Ipv4Addr::from((u128::from(ip) >> 80) as u32);
        return classify_v4(embedded);
    }
    const TABLE: &[([u16; 8], u32, AddrClass)] = &[
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, AddrClass::Private),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, AddrClass::Reserved),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, AddrClass::Reserved),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, AddrClass::Reserved),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, AddrClass::Reserved),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, AddrClass::UniqueLocal),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, AddrClass::LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, AddrClass::Private),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, AddrClass::Multicast),
    ];
    if let Some((_, _, c)) = TABLE.iter().find(|(net, prefix, _)| in_v6(ip, *net, *prefix)) {
        return *c;
    }
    if in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) { AddrClass::Public } else { AddrClass::Reserved }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn named_addresses_are_classed() {
        for (ip, want) in [
            ("8.8.8.8", AddrClass::Public),
            ("1.1.1.1", AddrClass::Public),
            ("93.184.216.34", AddrClass::Public),
            ("0.0.0.0", AddrClass::Unspecified),
            ("0.1.2.3", AddrClass::Unspecified),
            ("127.0.0.1", AddrClass::Loopback),
            ("127.255.255.254", AddrClass::Loopback),
            ("10.0.0.1", AddrClass::Private),
            ("172.16.0.1", AddrClass::Private),
            ("172.31.255.255", AddrClass::Private),
            ("172.32.0.1", AddrClass::Public),
            ("172.15.255.255", AddrClass::Public),
            ("192.168.1.1", AddrClass::Private),
            ("100.64.0.1", AddrClass::Private),
            ("100.128.0.1", AddrClass::Public),
            ("169.254.169.254", AddrClass::LinkLocal),
            ("192.0.2.1", AddrClass::Reserved),
            ("198.18.0.1", AddrClass::Reserved),
            ("203.0.113.9", AddrClass::Reserved),
            ("224.0.0.1", AddrClass::Multicast),
            ("239.255.255.250", AddrClass::Multicast),
            ("255.255.255.255", AddrClass::Reserved),
            ("240.0.0.1", AddrClass::Reserved),
            ("::", AddrClass::Unspecified),
            ("::1", AddrClass::Loopback),
            ("::ffff:127.0.0.1", AddrClass::Loopback),
            ("::ffff:7f00:1", AddrClass::Loopback),
            ("::ffff:10.1.2.3", AddrClass::Private),
            ("::ffff:169.254.169.254", AddrClass::LinkLocal),
            ("::ffff:8.8.8.8", AddrClass::Public),
            ("::127.0.0.1", AddrClass::Loopback),
            ("::ffff:0.0.0.0", AddrClass::Unspecified),
            ("64:ff9b::7f00:1", AddrClass::Loopback),
            ("64:ff9b::808:808", AddrClass::Public),
            ("64:ff9b:1::1", AddrClass::Private),
            ("2002:7f00:1::1", AddrClass::Loopback),
            ("2002:c0a8:101::1", AddrClass::Private),
            ("2002:808:808::1", AddrClass::Public),
            ("2001:0:4136:e378::1", AddrClass::Reserved),
            ("2001:db8::1", AddrClass::Reserved),
            ("fc00::1", AddrClass::UniqueLocal),
            ("fd12:3456::1", AddrClass::UniqueLocal),
            ("fe80::1", AddrClass::LinkLocal),
            ("fec0::1", AddrClass::Private),
            ("ff02::1", AddrClass::Multicast),
            ("100::1", AddrClass::Reserved),
            ("2606:4700:4700::1111", AddrClass::Public),
            ("2a00:1450:4001::1", AddrClass::Public),
            ("4000::1", AddrClass::Reserved),
        ] {
            assert_eq!(c(ip), want, "{ip}");
        }
    }

    #[test]
    fn only_public_and_allowed_loopback_pass() {
        assert!(allowed(AddrClass::Public, false));
        assert!(!allowed(AddrClass::Loopback, false));
        assert!(allowed(AddrClass::Loopback, true));
        for class in [
            AddrClass::Private,
            AddrClass::LinkLocal,
            AddrClass::UniqueLocal,
            AddrClass::Unspecified,
            AddrClass::Multicast,
            AddrClass::Reserved,
        ] {
            assert!(!allowed(class, true), "{class}");
        }
    }

    proptest! {
        // std's own predicates name addresses that must never be public.
        #[test]
        fn std_special_v4_is_never_public(a in any::<u32>()) {
            let ip = Ipv4Addr::from(a);
            let special = ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_multicast()
                || ip.is_broadcast() || ip.is_unspecified() || ip.is_documentation() || ip.octets()[0] == 0;
            if special {
                prop_assert_ne!(classify(IpAddr::V4(ip)), AddrClass::Public);
            }
        }

        #[test]
        fn embedded_v4_forms_class_as_their_v4(a in any::<u32>()) {
            let v4 = Ipv4Addr::from(a);
            let want = classify_v4(v4);
            prop_assert_eq!(classify(IpAddr::V6(v4.to_ipv6_mapped())), want);
            let nat64 = Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(a));
            prop_assert_eq!(classify(IpAddr::V6(nat64)), want);
            let six_to_four = Ipv6Addr::from((0x2002_u128 << 112) | (u128::from(a) << 80) | 1);
            prop_assert_eq!(classify(IpAddr::V6(six_to_four)), want);
        }

        #[test]
        fn loopback_and_private_v4_blocks(b in any::<[u8; 3]>()) {
            prop_assert_eq!(c(&format!("127.{}.{}.{}", b[0], b[1], b[2])), AddrClass::Loopback);
            prop_assert_eq!(c(&format!("10.{}.{}.{}", b[0], b[1], b[2])), AddrClass::Private);
            prop_assert_eq!(c(&format!("169.254.{}.{}", b[1], b[2])), AddrClass::LinkLocal);
        }

        #[test]
        fn std_special_v6_is_never_public(a in any::<u128>()) {
            let ip = Ipv6Addr::from(a);
            let special = ip.is_loopback() || ip.is_unspecified() || ip.is_multicast()
                || ip.is_unique_local() || ip.is_unicast_link_local();
            if special {
                prop_assert_ne!(classify(IpAddr::V6(ip)), AddrClass::Public);
            }
        }

        #[test]
        fn v6_public_only_in_global_unicast(a in any::<u128>()) {
            let ip = Ipv6Addr::from(a);
            if classify(IpAddr::V6(ip)) == AddrClass::Public {
                let global = a >> 125 == 1;
                let carries_v4 = ip.to_ipv4_mapped().is_some() || a >> 32 == 0 || a >> 32 == 0x0064_ff9b << 64;
                prop_assert!(global || carries_v4, "{ip}");
            }
        }
    }
}
