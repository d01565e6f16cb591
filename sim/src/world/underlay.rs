//! The underlay: the VTEP subnets (one L2 segment each, a switch with IGMP
//! snooping) joined by one router, which also routes multicast to the
//! groups' members on other subnets (as PIM would).
//!
//! It carries what the NICs put on the wire: unicast to a VTEP on the same
//! subnet is switched unchanged; unicast to the router's MAC is routed by
//! destination IP (TTL decremented, IPv4 checksum recomputed, MACs
//! rewritten); IPv4 multicast reaches every member host but the sender,
//! switched on its own subnet and routed to the others. Whatever it cannot
//! carry is counted by reason, never silently lost.

use super::scenario::{HostSpec, SubnetSpec};
use etherparse::{EtherType, Ethernet2HeaderSlice, Ipv4Header, Ipv4HeaderSlice};
use overlay_nic_driver::nic_config::MacAddr;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// What the underlay did with the frames it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnderlayStats {
    /// Frames the hosts sent.
    pub frames: u64,
    /// Unicast copies switched within a subnet.
    pub switched: u64,
    /// Unicast copies routed between subnets.
    pub routed: u64,
    /// Multicast copies delivered (switched or routed).
    pub multicast_copies: u64,
    /// Dropped: routed to an IPv4 address no host has.
    pub drop_no_route: u64,
    /// Dropped: TTL expired at the router.
    pub drop_ttl: u64,
    /// Dropped: unicast to a MAC not on the sender's subnet.
    pub drop_unknown_mac: u64,
    /// Dropped: multicast to a group with no other member.
    pub drop_no_member: u64,
    /// Dropped: not Ethernet/IPv4 (the underlay carries only VTEP traffic).
    pub drop_not_ipv4: u64,
}

/// The underlay network.
pub struct Underlay {
    subnets: Vec<SubnetSpec>,
    hosts: Vec<HostSpec>,
    groups: BTreeMap<Ipv4Addr, BTreeSet<usize>>,
    stats: UnderlayStats,
}

impl Underlay {
    /// Subnets and the hosts on them (no group members yet).
    pub fn new(subnets: Vec<SubnetSpec>, hosts: Vec<HostSpec>) -> Underlay {
        Underlay {
            subnets,
            hosts,
            groups: BTreeMap::new(),
            stats: UnderlayStats::default(),
        }
    }

    /// Host `host` joins multicast `group` (IGMP join).
    pub fn join_group(&mut self, host: usize, group: Ipv4Addr) {
        self.groups.entry(group).or_default().insert(host);
    }

    /// The member hosts of `group`.
    pub fn members(&self, group: Ipv4Addr) -> impl Iterator<Item = usize> + '_ {
        self.groups.get(&group).into_iter().flatten().copied()
    }

    /// What the underlay did so far.
    pub fn stats(&self) -> UnderlayStats {
        self.stats
    }

    /// The router's MAC on `subnet`.
    pub fn router_mac(&self, subnet: usize) -> MacAddr {
        self.subnets[subnet].router_mac
    }

    /// The frame host `from` sent, as each host it reaches receives it.
    pub fn forward(&mut self, from: usize, frame: &[u8]) -> Vec<(usize, Vec<u8>)> {
        self.stats.frames += 1;
        let Some((dst_mac, ip_at, ip)) = parse(frame) else {
            self.stats.drop_not_ipv4 += 1;
            return Vec::new();
        };
        let my_subnet = self.hosts[from].subnet;
        let dst_ip = Ipv4Addr::from(ip.destination);
        if dst_ip.is_multicast() {
            let mut out = Vec::new();
            for h in self
                .members(dst_ip)
                .filter(|h| *h != from)
                .collect::<Vec<_>>()
            {
                let to_subnet = self.hosts[h].subnet;
                if to_subnet == my_subnet {
                    out.push((h, frame.to_vec()));
                } else if let Some(routed) =
                    route(frame, ip_at, &ip, self.router_mac(to_subnet), None)
                {
                    out.push((h, routed));
                } else {
                    self.stats.drop_ttl += 1;
                }
            }
            if out.is_empty() {
                self.stats.drop_no_member += 1;
            }
            self.stats.multicast_copies += out.len() as u64;
            return out;
        }
        if dst_mac == self.router_mac(my_subnet) {
            let Some(h) = self.hosts.iter().position(|h| h.vtep_ip == dst_ip) else {
                self.stats.drop_no_route += 1;
                return Vec::new();
            };
            let to = &self.hosts[h];
            match route(
                frame,
                ip_at,
                &ip,
                self.router_mac(to.subnet),
                Some(to.vtep_mac),
            ) {
                Some(routed) => {
                    self.stats.routed += 1;
                    vec![(h, routed)]
                }
                None => {
                    self.stats.drop_ttl += 1;
                    Vec::new()
                }
            }
        } else if let Some(h) = self
            .hosts
            .iter()
            .position(|h| h.subnet == my_subnet && h.vtep_mac == dst_mac)
        {
            self.stats.switched += 1;
            vec![(h, frame.to_vec())]
        } else {
            self.stats.drop_unknown_mac += 1;
            Vec::new()
        }
    }
}

/// The destination MAC, the IPv4 header's offset and the header.
fn parse(frame: &[u8]) -> Option<(MacAddr, usize, Ipv4Header)> {
    let eth = Ethernet2HeaderSlice::from_slice(frame).ok()?;
    let dst = MacAddr(eth.destination());
    let ip_at = match eth.ether_type() {
        EtherType::IPV4 => 14,
        // An outer 802.1Q tag (a VTEP with a VLAN): the tag's own type.
        EtherType::VLAN_TAGGED_FRAME if frame.get(16..18) == Some(&[0x08, 0x00]) => 18,
        _ => return None,
    };
    let ip = Ipv4HeaderSlice::from_slice(frame.get(ip_at..)?)
        .ok()?
        .to_header();
    Some((dst, ip_at, ip))
}

/// The frame as the router sends it on: TTL less one (none if it expires),
/// IPv4 checksum recomputed, source MAC the router's, destination MAC
/// `dst_mac` (multicast keeps its group MAC).
fn route(
    frame: &[u8],
    ip_at: usize,
    ip: &Ipv4Header,
    router_mac: MacAddr,
    dst_mac: Option<MacAddr>,
) -> Option<Vec<u8>> {
    if ip.time_to_live <= 1 {
        return None;
    }
    let mut hop = ip.clone();
    hop.time_to_live -= 1;
    hop.header_checksum = hop.calc_header_checksum();
    let mut out = frame.to_vec();
    if let Some(d) = dst_mac {
        out[0..6].copy_from_slice(&d.0);
    }
    out[6..12].copy_from_slice(&router_mac.0);
    let header = hop.to_bytes();
    out.get_mut(ip_at..ip_at + header.len())?
        .copy_from_slice(&header);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::scenario::Prefix;

    fn world() -> Underlay {
        let subnet = |n: &str, p: &str, m: u8| SubnetSpec {
            name: n.into(),
            prefix: p.parse().unwrap(),
            router_mac: MacAddr([2, 0, 0, 0, 0xfe, m]),
        };
        let host = |n: &str, s: usize, ip: [u8; 4]| HostSpec {
            name: n.into(),
            subnet: s,
            vtep_ip: Ipv4Addr::from(ip),
            vtep_mac: MacAddr([2, 0, ip[0], ip[1], ip[2], ip[3]]),
        };
        Underlay::new(
            vec![subnet("a", "10.1.0.0/24", 1), subnet("b", "10.2.0.0/24", 2)],
            vec![
                host("h0", 0, [10, 1, 0, 10]),
                host("h1", 1, [10, 2, 0, 20]),
                host("h2", 0, [10, 1, 0, 30]),
            ],
        )
    }

    fn udp(dst_mac: [u8; 6], src: [u8; 4], dst: [u8; 4], ttl: u8) -> Vec<u8> {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 10, 1, 0, 10], dst_mac)
            .ipv4(src, dst, ttl)
            .udp(49152, 4789);
        let mut out = Vec::new();
        b.write(&mut out, &[0u8; 20]).unwrap();
        out
    }

    #[test]
    fn prefix_helpers() {
        let p: Prefix = "10.1.0.0/24".parse().unwrap();
        assert_eq!(p.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert!(p.contains(Ipv4Addr::new(10, 1, 0, 200)));
        assert!(!p.contains(Ipv4Addr::new(10, 1, 1, 1)));
    }

    #[test]
    fn same_subnet_unicast_is_switched_unchanged() {
        let mut u = world();
        let f = udp([2, 0, 10, 1, 0, 30], [10, 1, 0, 10], [10, 1, 0, 30], 64);
        assert_eq!(u.forward(0, &f), vec![(2, f.clone())]);
        assert_eq!(u.stats().switched, 1);
    }

    #[test]
    fn routed_unicast_gets_new_macs_ttl_and_checksum() {
        let mut u = world();
        let f = udp([2, 0, 0, 0, 0xfe, 1], [10, 1, 0, 10], [10, 2, 0, 20], 64);
        let out = u.forward(0, &f);
        assert_eq!(out.len(), 1);
        let (h, g) = &out[0];
        assert_eq!(*h, 1);
        assert_eq!(g[0..6], [2, 0, 10, 2, 0, 20]);
        assert_eq!(g[6..12], [2, 0, 0, 0, 0xfe, 2]);
        let ip = Ipv4HeaderSlice::from_slice(&g[14..]).unwrap().to_header();
        assert_eq!(ip.time_to_live, 63);
        assert_eq!(ip.header_checksum, ip.calc_header_checksum());
        assert_eq!(g[34..], f[34..], "UDP untouched");
    }

    #[test]
    fn multicast_reaches_members_but_the_sender() {
        let mut u = world();
        let g = Ipv4Addr::new(239, 1, 1, 1);
        for h in 0..3 {
            u.join_group(h, g);
        }
        let f = udp([1, 0, 0x5e, 1, 1, 1], [10, 1, 0, 10], g.octets(), 64);
        let out = u.forward(0, &f);
        let to: Vec<usize> = out.iter().map(|(h, _)| *h).collect();
        assert_eq!(to, vec![1, 2]);
        assert_eq!(out[1].1, f, "switched on the same subnet");
        assert_eq!(out[0].1[6..12], [2, 0, 0, 0, 0xfe, 2], "routed");
        assert_eq!(out[0].1[0..6], f[0..6], "group MAC kept");
        assert_eq!(u.stats().multicast_copies, 2);
    }

    #[test]
    fn what_cannot_be_carried_is_counted() {
        let mut u = world();
        let r = [2, 0, 0, 0, 0xfe, 1];
        assert!(u
            .forward(0, &udp(r, [10, 1, 0, 10], [10, 9, 9, 9], 64))
            .is_empty());
        assert!(u
            .forward(0, &udp(r, [10, 1, 0, 10], [10, 2, 0, 20], 1))
            .is_empty());
        assert!(u
            .forward(
                0,
                &udp([2, 0, 10, 2, 0, 20], [10, 1, 0, 10], [10, 2, 0, 20], 64)
            )
            .is_empty());
        assert!(u
            .forward(
                0,
                &udp([1, 0, 0x5e, 1, 1, 9], [10, 1, 0, 10], [239, 1, 1, 9], 64)
            )
            .is_empty());
        assert!(u.forward(0, &[0u8; 10]).is_empty());
        let s = u.stats();
        assert_eq!(
            (
                s.drop_no_route,
                s.drop_ttl,
                s.drop_unknown_mac,
                s.drop_no_member,
                s.drop_not_ipv4
            ),
            (1, 1, 1, 1, 1)
        );
    }
}
