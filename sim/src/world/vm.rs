//! A VM's network stack: a tiny, deterministic, event-driven IPv4 host.
//!
//! The world's VMs need real traffic to push through the overlay NICs: ARP
//! to learn each other's MACs across the tunnel, ping to check reachability,
//! a bulk TCP transfer that exercises the NIC's checksum offload and TSO,
//! and UDP. This module is that traffic's source and sink. It has no clock:
//! the world delivers frames ([`Vm::receive`]), collects what the VM wants
//! to send ([`Vm::take_outbox`]) and, when the network has gone quiet while
//! an application still waits, declares one retransmission timeout
//! ([`Vm::timeout`]). Everything is ordered (`BTreeMap`s, sequential ids,
//! fixed sequence numbers), so a run is reproducible frame for frame.
//!
//! What the stack does:
//! - ARP on one L2 segment (no router inside the overlay): a cache, requests
//!   for unresolved destinations with the packets queued per application,
//!   replies for its own address, learning from replies and gratuitous ARPs.
//! - ICMP echo: answers requests; [`Vm::start_ping`] sends them one at a
//!   time.
//! - UDP: [`Vm::start_udp`] sends a burst of datagrams; received datagrams
//!   are counted.
//! - TCP: [`Vm::start_tcp`] is a client that sends a byte stream with a
//!   known pattern ([`stream_byte`]), with or without TSO; every port has a
//!   passive server that verifies the pattern, so a corrupted or misordered
//!   byte anywhere in the offload path shows up in [`Vm::tcp_received`].
//!   Go-back-N retransmission, a 64 KiB window, cumulative ACKs.
//!
//! Bad input (truncated, malformed, wrong checksum, not addressed to this
//! VM) is counted in [`VmStats`] and ignored; no byte sequence panics.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, ArpPacketSlice, EtherType, Ethernet2HeaderSlice,
    IcmpEchoHeader, Icmpv4Header, Icmpv4Slice, Icmpv4Type, IpNumber, Ipv4Header, Ipv4Slice,
    TcpHeader, TcpSlice, UdpHeader, UdpSlice,
};
use overlay_nic_driver::nic_config::MacAddr;
use overlay_nic_driver::offload::{prepare_checksum_partial, OffloadRequest};

/// TTL of every IPv4 packet the VM sends.
const TTL: u8 = 64;
/// The most unacknowledged TCP bytes (64 KiB, the largest window without
/// window scaling), and the window this VM advertises.
const WINDOW: usize = 65535;
/// ARP requests sent for one destination before the application fails.
const ARP_TRIES: u32 = 3;
/// Consecutive retransmission timeouts without progress before a TCP
/// connection fails.
const TCP_STALLS: u32 = 5;
/// Echo request payload (the `ping` default).
const PING_PAYLOAD: usize = 56;
/// The largest TCP payload of one frame: its IPv4 total length (20 + 20 +
/// payload) must fit 16 bits.
const MAX_TCP_SEND: usize = 65535 - 40;
/// The largest UDP payload of one datagram (20 + 8 + payload in 16 bits).
const MAX_UDP_PAYLOAD: usize = 65535 - 28;
/// The receiver ACKs every this many in-order segments even without PSH.
const ACK_EVERY: u32 = 4;
/// First ephemeral port for client applications.
const EPHEMERAL_BASE: u16 = 49152;
/// Ethernet header length (the VM never sees VLAN tags).
const ETH_LEN: usize = 14;
/// Smallest IP MTU an IPv4 host must support (RFC 791).
const MIN_MTU: u16 = 68;

/// Byte `offset` (counted from 0, the byte after the ISN) of every TCP
/// stream (and of UDP payloads, counted per application): a pattern the
/// receiver can check without state, and that differs between neighbouring
/// offsets so a shifted or reordered segment is caught.
pub fn stream_byte(offset: usize) -> u8 {
    offset.wrapping_mul(7).wrapping_add(3) as u8
}

/// A VM's addresses and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmConfig {
    /// Name, for reports.
    pub name: String,
    /// The VM's MAC address.
    pub mac: MacAddr,
    /// The VM's IPv4 address.
    pub ip: Ipv4Addr,
    /// IP MTU (e.g. 1500): TCP's MSS is `mtu - 40`.
    pub mtu: u16,
    /// Largest TCP send, in payload bytes: with TSO one frame, without it a
    /// run of MSS segments with PSH on the last (e.g. 16000).
    pub max_send: usize,
}

/// One frame handed to the NIC, with its offload request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The Ethernet frame (no FCS).
    pub data: Vec<u8>,
    /// What the NIC is asked to do with it (default: nothing).
    pub offload: OffloadRequest,
}

/// An application started on a VM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppId(pub u32);

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "app#{}", self.0)
    }
}

/// Which kind of application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// [`Vm::start_ping`].
    Ping,
    /// [`Vm::start_tcp`].
    Tcp,
    /// [`Vm::start_udp`].
    Udp,
}

/// Where an application stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppStatus {
    /// Still working.
    Running,
    /// Finished; what it did.
    Done(AppReport),
    /// Gave up, with the reason (e.g. `no ARP reply from 10.0.0.2 after 3
    /// requests`).
    Failed(String),
}

/// What an application did. Fields of other kinds stay 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppReport {
    /// Ping, TCP or UDP.
    pub kind: AppKind,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Destination port (0 for ping).
    pub dst_port: u16,
    /// Local port (0 for ping).
    pub src_port: u16,
    /// ARP requests this application caused.
    pub arp_requests: u32,
    /// Ping: echo requests sent (retransmissions are new requests).
    pub pings_sent: u16,
    /// Ping: matching echo replies.
    pub ping_replies: u16,
    /// Ping: requests given up on at a timeout.
    pub pings_lost: u16,
    /// TCP: payload bytes handed to the NIC, retransmissions included.
    pub tcp_bytes_sent: usize,
    /// TCP: payload bytes the peer acknowledged.
    pub tcp_bytes_acked: usize,
    /// TCP: data frames handed to the NIC (a TSO send counts once).
    pub tcp_sends: u64,
    /// TCP: the largest payload of one data frame.
    pub tcp_largest_send: usize,
    /// TCP: retransmission timeouts that resent SYN, data or FIN.
    pub retransmissions: u64,
    /// UDP: datagrams handed to the NIC.
    pub udp_datagrams_sent: u64,
    /// UDP: payload bytes handed to the NIC.
    pub udp_bytes_sent: usize,
}

impl AppReport {
    fn new(kind: AppKind, dst: Ipv4Addr, dst_port: u16, src_port: u16) -> AppReport {
        AppReport {
            kind,
            dst,
            dst_port,
            src_port,
            arp_requests: 0,
            pings_sent: 0,
            ping_replies: 0,
            pings_lost: 0,
            tcp_bytes_sent: 0,
            tcp_bytes_acked: 0,
            tcp_sends: 0,
            tcp_largest_send: 0,
            retransmissions: 0,
            udp_datagrams_sent: 0,
            udp_bytes_sent: 0,
        }
    }
}

/// The VM's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VmStats {
    /// Frames given to [`Vm::receive`].
    pub frames_in: u64,
    /// Frames put in the outbox.
    pub frames_out: u64,
    /// ARP requests sent (gratuitous ones not included).
    pub arp_requests_sent: u64,
    /// ARP replies sent.
    pub arp_replies_sent: u64,
    /// Gratuitous ARPs sent.
    pub gratuitous_arps_sent: u64,
    /// Well-formed Ethernet/IPv4 ARP packets received.
    pub arp_in: u64,
    /// Echo requests answered.
    pub icmp_echo_replied: u64,
    /// TCP segments received that passed the checksums.
    pub tcp_segments_received: u64,
    /// TCP payload bytes received in order (the server side), after the
    /// checksums passed.
    pub tcp_bytes_received: u64,
    /// In-order TCP payload bytes that did not match [`stream_byte`].
    pub tcp_content_mismatch: u64,
    /// TCP segments dropped as out of order (a dup ACK was sent).
    pub tcp_out_of_order: u64,
    /// UDP datagrams received.
    pub udp_datagrams_received: u64,
    /// UDP payload bytes received.
    pub udp_bytes_received: u64,
    /// Dropped: bad IPv4 header, TCP, UDP or ICMP checksum.
    pub bad_checksum: u64,
    /// Dropped: another unicast MAC, or another IPv4 destination.
    pub not_for_me: u64,
    /// Dropped: truncated or malformed.
    pub malformed: u64,
    /// Dropped: well-formed but not handled (multicast, other ethertypes or
    /// protocols, fragments, ARP for someone else, TCP without a
    /// connection).
    pub ignored: u64,
}

/// Packets of one application waiting for its destination's MAC.
#[derive(Debug, Default)]
struct ArpWait {
    /// The frames, destination MAC still unset, in send order.
    queue: Vec<Outgoing>,
    /// ARP requests sent since the queue started.
    requests: u32,
}

/// Addresses, ARP cache, outbox and counters: what applications and the
/// receive path share (split from [`Vm`] so an application can be borrowed
/// mutably together with it).
#[derive(Debug)]
struct Net {
    cfg: VmConfig,
    arp: BTreeMap<Ipv4Addr, MacAddr>,
    outbox: Vec<Outgoing>,
    ip_id: u16,
    stats: VmStats,
}

impl Net {
    fn mss(&self) -> usize {
        usize::from(self.cfg.mtu.max(MIN_MTU)) - 40
    }

    fn push(&mut self, out: Outgoing) {
        self.stats.frames_out += 1;
        self.outbox.push(out);
    }

    /// Sends `out` (destination MAC not yet set) to `dst` if its MAC is
    /// known, else queues it on `wait` and asks ARP (once per queue; the
    /// timeout repeats the request).
    fn route(
        &mut self,
        dst: Ipv4Addr,
        mut out: Outgoing,
        wait: &mut ArpWait,
        report: &mut AppReport,
    ) {
        match self.arp.get(&dst) {
            Some(mac) if wait.queue.is_empty() => {
                set_dst_mac(&mut out.data, *mac);
                self.push(out);
            }
            _ => {
                wait.queue.push(out);
                if wait.requests == 0 {
                    self.send_arp_request(dst);
                    wait.requests = 1;
                    report.arp_requests += 1;
                }
            }
        }
    }

    fn arp_frame(
        &self,
        op: ArpOperation,
        eth_dst: MacAddr,
        target: (MacAddr, Ipv4Addr),
    ) -> Vec<u8> {
        let arp = ArpEthIpv4Packet {
            operation: op,
            sender_mac: self.cfg.mac.0,
            sender_ipv4: self.cfg.ip.octets(),
            target_mac: target.0 .0,
            target_ipv4: target.1.octets(),
        };
        let mut frame = eth_header(eth_dst, self.cfg.mac, EtherType::ARP);
        frame.extend_from_slice(&arp.to_bytes());
        frame
    }

    fn send_arp_request(&mut self, ip: Ipv4Addr) {
        let frame = self.arp_frame(
            ArpOperation::REQUEST,
            MacAddr::BROADCAST,
            (MacAddr([0; 6]), ip),
        );
        self.stats.arp_requests_sent += 1;
        self.push(plain(frame));
    }

    /// An IPv4 header to `dst` for `l4_len` bytes of `proto`, taking
    /// `ids` identification values (a TSO send takes one per segment, as
    /// the NIC numbers its segments `id, id + 1, ...`). `None` if the
    /// packet would not fit IPv4's 16-bit length.
    fn ipv4(
        &mut self,
        dst: Ipv4Addr,
        proto: IpNumber,
        l4_len: usize,
        ids: usize,
    ) -> Option<Ipv4Header> {
        let len = u16::try_from(l4_len).ok()?;
        let mut ip = Ipv4Header::new(len, TTL, proto, self.cfg.ip.octets(), dst.octets()).ok()?;
        ip.identification = self.ip_id;
        self.ip_id = self.ip_id.wrapping_add(ids.max(1) as u16);
        ip.dont_fragment = true;
        ip.header_checksum = ip.calc_header_checksum();
        Some(ip)
    }

    /// A TCP frame to `dst_mac`/`dst`. With `tso_mss` it is one TSO send:
    /// both checksums are left to the NIC (`CHECKSUM_PARTIAL` seed, IPv4
    /// checksum 0 with `ip_csum`), which segments it at `mss`. Without, the
    /// checksums are computed here.
    fn tcp(
        &mut self,
        dst_mac: MacAddr,
        dst: Ipv4Addr,
        mut tcp: TcpHeader,
        payload: &[u8],
        tso_mss: Option<usize>,
    ) -> Option<Outgoing> {
        let l4_len = tcp.header_len() + payload.len();
        let ids = tso_mss.map_or(1, |mss| payload.len().div_ceil(mss.max(1)));
        let mut ip = self.ipv4(dst, IpNumber::TCP, l4_len, ids)?;
        let Some(mss) = tso_mss else {
            tcp.checksum = tcp
                .calc_checksum_ipv4_raw(ip.source, ip.destination, payload)
                .ok()?;
            return Some(plain(ip_frame(
                dst_mac,
                self.cfg.mac,
                &ip,
                &tcp.to_bytes(),
                payload,
            )));
        };
        ip.header_checksum = 0;
        tcp.checksum = 0;
        let mut data = ip_frame(dst_mac, self.cfg.mac, &ip, &tcp.to_bytes(), payload);
        let mut offload = prepare_checksum_partial(&mut data)?;
        offload.tso = true;
        offload.mss = u16::try_from(mss).unwrap_or(u16::MAX);
        offload.ip_csum = true;
        Some(Outgoing { data, offload })
    }

    fn udp(&mut self, dst: Ipv4Addr, ports: (u16, u16), payload: &[u8]) -> Option<Outgoing> {
        let ip = self.ipv4(dst, IpNumber::UDP, 8 + payload.len(), 1)?;
        let udp = UdpHeader::with_ipv4_checksum(ports.0, ports.1, &ip, payload).ok()?;
        Some(plain(ip_frame(
            MacAddr([0; 6]),
            self.cfg.mac,
            &ip,
            &udp.to_bytes(),
            payload,
        )))
    }

    fn icmp(
        &mut self,
        dst_mac: MacAddr,
        dst: Ipv4Addr,
        icmp_type: Icmpv4Type,
        payload: &[u8],
    ) -> Option<Outgoing> {
        let icmp = Icmpv4Header::with_checksum(icmp_type, payload);
        let ip = self.ipv4(dst, IpNumber::ICMP, icmp.header_len() + payload.len(), 1)?;
        Some(plain(ip_frame(
            dst_mac,
            self.cfg.mac,
            &ip,
            &icmp.to_bytes(),
            payload,
        )))
    }
}

fn plain(data: Vec<u8>) -> Outgoing {
    Outgoing {
        data,
        offload: OffloadRequest::default(),
    }
}

fn eth_header(dst: MacAddr, src: MacAddr, ether_type: EtherType) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ETH_LEN + 64);
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&ether_type.0.to_be_bytes());
    frame
}

fn ip_frame(
    dst: MacAddr,
    src: MacAddr,
    ip: &Ipv4Header,
    l4_header: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = eth_header(dst, src, EtherType::IPV4);
    frame.extend_from_slice(&ip.to_bytes());
    frame.extend_from_slice(l4_header);
    frame.extend_from_slice(payload);
    frame
}

fn set_dst_mac(frame: &mut [u8], mac: MacAddr) {
    if let Some(dst) = frame.get_mut(..6) {
        dst.copy_from_slice(&mac.0);
    }
}

/// Whether a received checksum field holds the computed value. 0x0000 and
/// 0xffff are the same number in ones' complement (+0 and -0), and the NIC
/// writes a computed 0 as 0xffff (`CSUM_MANGLED_0`), so both count.
fn checksum_ok(field: u16, computed: u16) -> bool {
    let norm = |v: u16| if v == 0xffff { 0 } else { v };
    norm(field) == norm(computed)
}

/// `a < b` in TCP sequence space.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// TCP client connection states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TcpState {
    SynSent,
    Established,
    FinWait,
    Closed,
}

/// The client side of a TCP transfer. Stream offsets (`snd_*`) count
/// payload bytes from 0; sequence numbers are `iss + 1 + offset`.
#[derive(Debug)]
struct TcpClient {
    tso: bool,
    src_port: u16,
    dst_port: u16,
    bytes: usize,
    iss: u32,
    state: TcpState,
    /// Oldest unacknowledged offset.
    snd_una: usize,
    /// Next offset to send (goes back to `snd_una` on a timeout).
    snd_nxt: usize,
    /// Highest offset ever sent: ACKs up to it are valid after a go-back.
    snd_max: usize,
    /// Next sequence number expected from the peer (after its SYN).
    rcv_nxt: u32,
    /// The peer's advertised window.
    peer_window: usize,
    /// Timeouts since the last progress.
    stalls: u32,
}

impl TcpClient {
    fn seq(&self, offset: usize) -> u32 {
        self.iss.wrapping_add(1).wrapping_add(offset as u32)
    }

    fn header(&self, seq: u32) -> TcpHeader {
        let mut h = TcpHeader::new(self.src_port, self.dst_port, seq, WINDOW as u16);
        h.ack = true;
        h.acknowledgment_number = self.rcv_nxt;
        h
    }
}

/// A ping: one echo request outstanding at a time.
#[derive(Debug)]
struct Ping {
    id: u16,
    count: u16,
    /// Sequence number of the outstanding request (0: none yet).
    seq: u16,
    /// Whether `seq` is still waiting for its reply.
    outstanding: bool,
}

#[derive(Debug)]
enum Proto {
    Ping(Ping),
    Tcp(TcpClient),
    Udp,
}

#[derive(Debug)]
struct App {
    dst: Ipv4Addr,
    wait: ArpWait,
    /// `None` while running, else the reason it failed (`Some(None)`: done).
    end: Option<Option<String>>,
    report: AppReport,
    proto: Proto,
}

impl App {
    fn running(&self) -> bool {
        self.end.is_none()
    }

    fn fail(&mut self, reason: String) {
        self.wait = ArpWait::default();
        self.end = Some(Some(reason));
    }

    fn done(&mut self) {
        self.end = Some(None);
    }

    /// Sends the next echo request, or finishes when all were sent.
    fn ping_next(&mut self, net: &mut Net) {
        let Proto::Ping(ping) = &mut self.proto else {
            return;
        };
        if ping.seq >= ping.count {
            self.end = Some(None);
            return;
        }
        ping.seq += 1;
        ping.outstanding = true;
        let echo = IcmpEchoHeader {
            id: ping.id,
            seq: ping.seq,
        };
        let payload: Vec<u8> = (0..PING_PAYLOAD).map(|i| i as u8).collect();
        if let Some(out) = net.icmp(
            MacAddr([0; 6]),
            self.dst,
            Icmpv4Type::EchoRequest(echo),
            &payload,
        ) {
            self.report.pings_sent += 1;
            net.route(self.dst, out, &mut self.wait, &mut self.report);
        }
    }

    /// Sends a TCP segment without payload (SYN, ACK, FIN) with `flags`
    /// set on the client's header.
    fn tcp_control(&mut self, net: &mut Net, seq: u32, set: impl FnOnce(&mut TcpHeader)) {
        let Proto::Tcp(tcp) = &self.proto else {
            return;
        };
        let mut h = tcp.header(seq);
        set(&mut h);
        if let Some(out) = net.tcp(MacAddr([0; 6]), self.dst, h, &[], None) {
            net.route(self.dst, out, &mut self.wait, &mut self.report);
        }
    }

    fn tcp_syn(&mut self, net: &mut Net) {
        let Proto::Tcp(tcp) = &self.proto else {
            return;
        };
        let iss = tcp.iss;
        self.tcp_control(net, iss, |h| {
            h.syn = true;
            h.ack = false;
            h.acknowledgment_number = 0;
        });
    }

    fn tcp_fin(&mut self, net: &mut Net) {
        let Proto::Tcp(tcp) = &self.proto else {
            return;
        };
        let seq = tcp.seq(tcp.bytes);
        self.tcp_control(net, seq, |h| h.fin = true);
    }

    /// Sends as much data as the window allows, in sends of up to
    /// `max_send` bytes, then the FIN once everything is acknowledged.
    fn tcp_fill(&mut self, net: &mut Net) {
        let Proto::Tcp(tcp) = &mut self.proto else {
            return;
        };
        if tcp.state != TcpState::Established {
            return;
        }
        let mss = net.mss();
        let max_chunk = net.cfg.max_send.clamp(1, MAX_TCP_SEND);
        let window = tcp.peer_window.min(WINDOW);
        let mut frames = Vec::new();
        while tcp.snd_nxt < tcp.bytes {
            let in_flight = tcp.snd_nxt - tcp.snd_una;
            let mut chunk = (tcp.bytes - tcp.snd_nxt).min(max_chunk);
            // Wait for room for a whole send rather than dribble out small
            // ones (silly-window avoidance), unless nothing is in flight.
            if in_flight + chunk > window {
                if in_flight > 0 {
                    break;
                }
                chunk = window.max(1);
            }
            let start = tcp.snd_nxt;
            let payload: Vec<u8> = (start..start + chunk).map(stream_byte).collect();
            // PSH on the last segment of each send, as Linux does on the
            // last segment of a write; TSO keeps it there too.
            if tcp.tso {
                let mut h = tcp.header(tcp.seq(start));
                h.psh = true;
                frames.extend(net.tcp(MacAddr([0; 6]), self.dst, h, &payload, Some(mss)));
                self.report.tcp_sends += 1;
            } else {
                let pieces = payload.chunks(mss).count();
                for (k, piece) in payload.chunks(mss).enumerate() {
                    let mut h = tcp.header(tcp.seq(start + k * mss));
                    h.psh = k + 1 == pieces;
                    frames.extend(net.tcp(MacAddr([0; 6]), self.dst, h, piece, None));
                    self.report.tcp_sends += 1;
                    self.report.tcp_largest_send = self.report.tcp_largest_send.max(piece.len());
                }
            }
            if tcp.tso {
                self.report.tcp_largest_send = self.report.tcp_largest_send.max(chunk);
            }
            self.report.tcp_bytes_sent += chunk;
            tcp.snd_nxt += chunk;
            tcp.snd_max = tcp.snd_max.max(tcp.snd_nxt);
        }
        let fin = tcp.snd_una == tcp.bytes;
        if fin {
            tcp.state = TcpState::FinWait;
        }
        for out in frames {
            net.route(self.dst, out, &mut self.wait, &mut self.report);
        }
        if fin {
            self.tcp_fin(net);
        }
    }

    /// A segment for this client connection (checksums already verified).
    fn tcp_segment(&mut self, net: &mut Net, seg: &TcpSlice<'_>) {
        let Proto::Tcp(tcp) = &mut self.proto else {
            return;
        };
        if seg.rst() {
            let reason = format!("TCP to {}:{}: connection reset", self.dst, tcp.dst_port);
            self.fail(reason);
            return;
        }
        tcp.peer_window = usize::from(seg.window_size());
        match tcp.state {
            TcpState::SynSent => {
                if seg.syn() && seg.ack() && seg.acknowledgment_number() == tcp.iss.wrapping_add(1)
                {
                    tcp.rcv_nxt = seg.sequence_number().wrapping_add(1);
                    tcp.state = TcpState::Established;
                    tcp.stalls = 0;
                    let seq = tcp.seq(0);
                    self.tcp_control(net, seq, |_| ());
                    self.tcp_fill(net);
                }
            }
            TcpState::Established | TcpState::FinWait | TcpState::Closed => {
                if seg.syn() {
                    // Our ACK of the SYN-ACK was lost: repeat it.
                    let seq = tcp.seq(tcp.snd_nxt);
                    self.tcp_control(net, seq, |_| ());
                    return;
                }
                let ack = seg.acknowledgment_number();
                if seg.ack() && tcp.state != TcpState::Closed {
                    let advance = ack.wrapping_sub(tcp.seq(tcp.snd_una)) as usize;
                    if advance > 0 && advance <= tcp.snd_max - tcp.snd_una {
                        tcp.snd_una += advance;
                        tcp.snd_nxt = tcp.snd_nxt.max(tcp.snd_una);
                        tcp.stalls = 0;
                        self.report.tcp_bytes_acked = tcp.snd_una;
                    }
                    if tcp.state == TcpState::FinWait && ack == tcp.seq(tcp.bytes).wrapping_add(1) {
                        tcp.state = TcpState::Closed;
                        self.end = Some(None);
                    }
                }
                if seg.fin() {
                    // The server's FIN (it sends no data): acknowledge it.
                    tcp.rcv_nxt = seg
                        .sequence_number()
                        .wrapping_add(seg.payload().len() as u32)
                        .wrapping_add(1);
                    let seq = tcp.seq(tcp.bytes).wrapping_add(1);
                    self.tcp_control(net, seq, |_| ());
                }
                self.tcp_fill(net);
            }
        }
    }

    /// One retransmission timeout for an application not waiting for ARP.
    fn on_timeout(&mut self, net: &mut Net) {
        match &mut self.proto {
            Proto::Ping(ping) => {
                if ping.outstanding {
                    ping.outstanding = false;
                    self.report.pings_lost += 1;
                    self.ping_next(net);
                }
            }
            Proto::Udp => {}
            Proto::Tcp(tcp) => {
                tcp.stalls += 1;
                if tcp.stalls >= TCP_STALLS {
                    let reason = format!(
                        "TCP to {}:{}: no progress after {} retransmission timeouts ({:?}, {} of {} bytes acked)",
                        self.dst, tcp.dst_port, tcp.stalls, tcp.state, tcp.snd_una, tcp.bytes
                    );
                    self.fail(reason);
                    return;
                }
                self.report.retransmissions += 1;
                match tcp.state {
                    TcpState::SynSent => self.tcp_syn(net),
                    TcpState::Established => {
                        // Go back to the last ACK and resend from there.
                        tcp.snd_nxt = tcp.snd_una;
                        self.tcp_fill(net);
                    }
                    TcpState::FinWait => self.tcp_fin(net),
                    TcpState::Closed => {}
                }
            }
        }
    }
}

/// The server side of one TCP connection.
#[derive(Debug)]
struct TcpServer {
    /// Where replies go: the source MAC of the peer's latest segment.
    peer_mac: MacAddr,
    iss: u32,
    /// The peer's initial sequence number.
    irs: u32,
    rcv_nxt: u32,
    established: bool,
    received: usize,
    verified: bool,
    fin: bool,
    /// In-order segments since the last ACK sent.
    unacked: u32,
}

impl TcpServer {
    fn snd_seq(&self) -> u32 {
        self.iss.wrapping_add(1).wrapping_add(u32::from(self.fin))
    }
}

/// The VM: its network stack and applications.
#[derive(Debug)]
pub struct Vm {
    net: Net,
    apps: BTreeMap<AppId, App>,
    next_app: u32,
    /// Server connections by (peer IP, peer port, local port).
    servers: BTreeMap<(Ipv4Addr, u16, u16), TcpServer>,
}

impl Vm {
    /// A VM with an empty ARP cache and no applications.
    pub fn new(cfg: VmConfig) -> Vm {
        let mut cfg = cfg;
        cfg.mtu = cfg.mtu.max(MIN_MTU);
        Vm {
            net: Net {
                cfg,
                arp: BTreeMap::new(),
                outbox: Vec::new(),
                ip_id: 1,
                stats: VmStats::default(),
            },
            apps: BTreeMap::new(),
            next_app: 1,
            servers: BTreeMap::new(),
        }
    }

    /// The VM's name.
    pub fn name(&self) -> &str {
        &self.net.cfg.name
    }

    /// The VM's MAC address.
    pub fn mac(&self) -> MacAddr {
        self.net.cfg.mac
    }

    /// The VM's IPv4 address.
    pub fn ip(&self) -> Ipv4Addr {
        self.net.cfg.ip
    }

    /// The IP MTU.
    pub fn mtu(&self) -> u16 {
        self.net.cfg.mtu
    }

    /// The configuration (MTU as currently set).
    pub fn config(&self) -> &VmConfig {
        &self.net.cfg
    }

    /// Changes the IP MTU (at least 68); TCP sends made from now on use
    /// MSS `mtu - 40`.
    pub fn set_mtu(&mut self, mtu: u16) {
        self.net.cfg.mtu = mtu.max(MIN_MTU);
    }

    fn add_app(&mut self, dst: Ipv4Addr, report: AppReport, proto: Proto) -> AppId {
        let id = AppId(self.next_app);
        self.next_app = self.next_app.wrapping_add(1);
        self.apps.insert(
            id,
            App {
                dst,
                wait: ArpWait::default(),
                end: None,
                report,
                proto,
            },
        );
        id
    }

    fn ephemeral_port(id: u32) -> u16 {
        EPHEMERAL_BASE + (id % 16384) as u16
    }

    /// Pings `dst` `count` times, one echo request at a time (id derived
    /// from the [`AppId`], sequence 1..=count, 56 payload bytes).
    pub fn start_ping(&mut self, dst: Ipv4Addr, count: u16) -> AppId {
        let ping = Ping {
            id: (self.next_app & 0xffff) as u16,
            count,
            seq: 0,
            outstanding: false,
        };
        let id = self.add_app(
            dst,
            AppReport::new(AppKind::Ping, dst, 0, 0),
            Proto::Ping(ping),
        );
        if let Some(app) = self.apps.get_mut(&id) {
            app.ping_next(&mut self.net);
        }
        id
    }

    /// Sends `bytes` bytes of [`stream_byte`] to `dst:dst_port` over TCP
    /// and closes, with TSO sends of up to `max_send` bytes if `tso`.
    pub fn start_tcp(&mut self, dst: Ipv4Addr, dst_port: u16, bytes: usize, tso: bool) -> AppId {
        let src_port = Self::ephemeral_port(self.next_app);
        let tcp = TcpClient {
            tso,
            src_port,
            dst_port,
            bytes,
            // A fixed ISN per application: reproducible, and distinct
            // between connections.
            iss: self.next_app.wrapping_mul(0x0101_0000).wrapping_add(1000),
            state: TcpState::SynSent,
            snd_una: 0,
            snd_nxt: 0,
            snd_max: 0,
            rcv_nxt: 0,
            peer_window: WINDOW,
            stalls: 0,
        };
        let report = AppReport::new(AppKind::Tcp, dst, dst_port, src_port);
        let id = self.add_app(dst, report, Proto::Tcp(tcp));
        if let Some(app) = self.apps.get_mut(&id) {
            app.tcp_syn(&mut self.net);
        }
        id
    }

    /// Sends `bytes` bytes to `dst:dst_port` as UDP datagrams of
    /// `datagram` payload bytes (the last shorter), all at once. Done once
    /// all are handed to the NIC. No fragmentation: a datagram larger than
    /// `mtu - 28` leaves as an oversized frame (DF set).
    pub fn start_udp(
        &mut self,
        dst: Ipv4Addr,
        dst_port: u16,
        bytes: usize,
        datagram: usize,
    ) -> AppId {
        let src_port = Self::ephemeral_port(self.next_app);
        let report = AppReport::new(AppKind::Udp, dst, dst_port, src_port);
        let id = self.add_app(dst, report, Proto::Udp);
        let size = datagram.clamp(1, MAX_UDP_PAYLOAD);
        if let Some(app) = self.apps.get_mut(&id) {
            let mut offset = 0;
            while offset < bytes {
                let len = size.min(bytes - offset);
                let payload: Vec<u8> = (offset..offset + len).map(stream_byte).collect();
                if let Some(out) = self.net.udp(dst, (src_port, dst_port), &payload) {
                    app.report.udp_datagrams_sent += 1;
                    app.report.udp_bytes_sent += len;
                    self.net.route(dst, out, &mut app.wait, &mut app.report);
                }
                offset += len;
            }
            if app.wait.queue.is_empty() {
                app.done();
            }
        }
        id
    }

    /// Broadcasts a gratuitous ARP (a request with sender and target IP
    /// both this VM's) so peers update their caches, e.g. after migration.
    pub fn gratuitous_arp(&mut self) {
        let ip = self.net.cfg.ip;
        let frame = self.net.arp_frame(
            ArpOperation::REQUEST,
            MacAddr::BROADCAST,
            (MacAddr([0; 6]), ip),
        );
        self.net.stats.gratuitous_arps_sent += 1;
        self.net.push(plain(frame));
    }

    /// Queues an arbitrary frame as is (e.g. isolation probes).
    pub fn send_raw(&mut self, frame: Vec<u8>) {
        self.net.push(plain(frame));
    }

    /// The frames to send now, in order.
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.net.outbox)
    }

    /// Flushes the ARP cache.
    pub fn forget_arp(&mut self) {
        self.net.arp.clear();
    }

    /// The cached MAC of `ip`.
    pub fn arp_entry(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        self.net.arp.get(&ip).copied()
    }

    /// The whole ARP cache, by IP.
    pub fn arp_cache(&self) -> Vec<(Ipv4Addr, MacAddr)> {
        self.net.arp.iter().map(|(ip, mac)| (*ip, *mac)).collect()
    }

    /// Where application `app` stands.
    pub fn status(&self, app: AppId) -> AppStatus {
        match self.apps.get(&app) {
            None => AppStatus::Failed(format!("{}: no {app}", self.name())),
            Some(a) => match &a.end {
                None => AppStatus::Running,
                Some(None) => AppStatus::Done(a.report),
                Some(Some(reason)) => AppStatus::Failed(reason.clone()),
            },
        }
    }

    /// What application `app` has done so far, whatever its status.
    pub fn report(&self, app: AppId) -> Option<AppReport> {
        self.apps.get(&app).map(|a| a.report)
    }

    /// Whether any application is still running.
    pub fn apps_running(&self) -> bool {
        self.apps.values().any(App::running)
    }

    /// The counters.
    pub fn stats(&self) -> VmStats {
        self.net.stats
    }

    /// The server side of every TCP connection: (peer IP, peer port, local
    /// port, bytes received in order, all of them matched [`stream_byte`],
    /// closed by the peer's FIN).
    pub fn tcp_received(&self) -> Vec<(Ipv4Addr, u16, u16, usize, bool, bool)> {
        self.servers
            .iter()
            .map(|(&(ip, pport, lport), c)| (ip, pport, lport, c.received, c.verified, c.fin))
            .collect()
    }

    /// One retransmission timeout: the network is quiet and nothing is in
    /// flight. Repeats ARP requests (failing after 3), counts an
    /// outstanding echo as lost, retransmits TCP from the last ACK (failing
    /// after 5 timeouts without progress), and sends delayed ACKs.
    pub fn timeout(&mut self) {
        for app in self.apps.values_mut() {
            if !app.running() {
                continue;
            }
            if !app.wait.queue.is_empty() {
                if app.wait.requests >= ARP_TRIES {
                    let reason = format!(
                        "no ARP reply from {} after {} requests",
                        app.dst, app.wait.requests
                    );
                    app.fail(reason);
                } else {
                    self.net.send_arp_request(app.dst);
                    app.wait.requests += 1;
                    app.report.arp_requests += 1;
                }
                continue;
            }
            app.on_timeout(&mut self.net);
        }
        // The receiver's delayed-ACK timer.
        let keys: Vec<_> = self.servers.keys().copied().collect();
        for key in keys {
            if self.servers.get(&key).is_some_and(|c| c.unacked > 0) {
                self.server_ack(key, false);
            }
        }
    }

    /// Records `ip -> mac` and sends what applications queued for `ip`.
    fn learn(&mut self, ip: Ipv4Addr, mac: MacAddr) {
        self.net.arp.insert(ip, mac);
        for app in self.apps.values_mut() {
            if app.dst != ip || app.wait.queue.is_empty() {
                continue;
            }
            for mut out in std::mem::take(&mut app.wait.queue) {
                set_dst_mac(&mut out.data, mac);
                self.net.push(out);
            }
            app.wait.requests = 0;
            if matches!(app.proto, Proto::Udp) && app.running() {
                app.done();
            }
        }
    }

    /// A frame delivered to this VM. Never panics; anything it cannot use
    /// is counted in [`VmStats`] and dropped.
    pub fn receive(&mut self, frame: &[u8]) {
        self.net.stats.frames_in += 1;
        let Ok(eth) = Ethernet2HeaderSlice::from_slice(frame) else {
            self.net.stats.malformed += 1;
            return;
        };
        let dst = MacAddr(eth.destination());
        if dst != self.net.cfg.mac && dst != MacAddr::BROADCAST {
            if dst.is_multicast() {
                self.net.stats.ignored += 1;
            } else {
                self.net.stats.not_for_me += 1;
            }
            return;
        }
        let src = MacAddr(eth.source());
        if src.is_multicast() {
            // No host sends from a group address; replying to one would
            // flood.
            self.net.stats.malformed += 1;
            return;
        }
        let body = &frame[ETH_LEN..];
        match eth.ether_type() {
            EtherType::ARP => self.receive_arp(body),
            EtherType::IPV4 => self.receive_ipv4(src, body),
            _ => self.net.stats.ignored += 1,
        }
    }

    fn receive_arp(&mut self, body: &[u8]) {
        let Some(arp) = ArpPacketSlice::from_slice(body)
            .ok()
            .and_then(|a| a.to_packet().try_eth_ipv4().ok())
        else {
            self.net.stats.malformed += 1;
            return;
        };
        self.net.stats.arp_in += 1;
        let me = self.net.cfg.ip;
        let sender_ip = arp.sender_ipv4_addr();
        let target_ip = arp.target_ipv4_addr();
        let sender_mac = MacAddr(arp.sender_mac);
        // Never learn a group MAC, the unspecified address (ARP probes) or
        // our own address (a conflict, not a neighbour).
        let learnable =
            !sender_mac.is_multicast() && !sender_ip.is_unspecified() && sender_ip != me;
        let ours = target_ip == me;
        if !learnable || !(ours || sender_ip == target_ip) {
            // ARP for someone else still refreshes an entry we already
            // have (as Linux does), so a moved VM is found again.
            if learnable && self.net.arp.contains_key(&sender_ip) {
                self.learn(sender_ip, sender_mac);
            }
            self.net.stats.ignored += 1;
            return;
        }
        self.learn(sender_ip, sender_mac);
        if ours && arp.operation == ArpOperation::REQUEST {
            let reply =
                self.net
                    .arp_frame(ArpOperation::REPLY, sender_mac, (sender_mac, sender_ip));
            self.net.stats.arp_replies_sent += 1;
            self.net.push(plain(reply));
        }
    }

    fn receive_ipv4(&mut self, src_mac: MacAddr, body: &[u8]) {
        let Ok(ip) = Ipv4Slice::from_slice(body) else {
            self.net.stats.malformed += 1;
            return;
        };
        let header = ip.header();
        if !checksum_ok(
            header.header_checksum(),
            header.to_header().calc_header_checksum(),
        ) {
            self.net.stats.bad_checksum += 1;
            return;
        }
        if Ipv4Addr::from(header.destination()) != self.net.cfg.ip {
            self.net.stats.not_for_me += 1;
            return;
        }
        if ip.is_payload_fragmented() {
            self.net.stats.ignored += 1;
            return;
        }
        let (src, dst) = (header.source(), header.destination());
        let payload = ip.payload().payload;
        match ip.payload_ip_number() {
            IpNumber::ICMP => self.receive_icmp(src_mac, src, payload),
            IpNumber::UDP => {
                let Ok(udp) = UdpSlice::from_slice(payload) else {
                    self.net.stats.malformed += 1;
                    return;
                };
                // 0: the sender computed no checksum (allowed over IPv4).
                let good = udp.checksum() == 0
                    || udp
                        .to_header()
                        .calc_checksum_ipv4_raw(src, dst, udp.payload())
                        .is_ok_and(|c| checksum_ok(udp.checksum(), c));
                if !good {
                    self.net.stats.bad_checksum += 1;
                    return;
                }
                self.net.stats.udp_datagrams_received += 1;
                self.net.stats.udp_bytes_received += udp.payload().len() as u64;
            }
            IpNumber::TCP => {
                let Ok(tcp) = TcpSlice::from_slice(payload) else {
                    self.net.stats.malformed += 1;
                    return;
                };
                let good = tcp
                    .to_header()
                    .calc_checksum_ipv4_raw(src, dst, tcp.payload())
                    .is_ok_and(|c| checksum_ok(tcp.checksum(), c));
                if !good {
                    self.net.stats.bad_checksum += 1;
                    return;
                }
                self.net.stats.tcp_segments_received += 1;
                self.receive_tcp(src_mac, Ipv4Addr::from(src), &tcp);
            }
            _ => self.net.stats.ignored += 1,
        }
    }

    fn receive_icmp(&mut self, src_mac: MacAddr, src: [u8; 4], payload: &[u8]) {
        let Ok(icmp) = Icmpv4Slice::from_slice(payload) else {
            self.net.stats.malformed += 1;
            return;
        };
        if !checksum_ok(
            icmp.checksum(),
            icmp.icmp_type().calc_checksum(icmp.payload()),
        ) {
            self.net.stats.bad_checksum += 1;
            return;
        }
        let src = Ipv4Addr::from(src);
        match icmp.icmp_type() {
            Icmpv4Type::EchoRequest(echo) => {
                let reply = Icmpv4Type::EchoReply(echo);
                if let Some(out) = self.net.icmp(src_mac, src, reply, icmp.payload()) {
                    self.net.stats.icmp_echo_replied += 1;
                    self.net.push(out);
                }
            }
            Icmpv4Type::EchoReply(echo) => {
                for app in self.apps.values_mut() {
                    let Proto::Ping(ping) = &mut app.proto else {
                        continue;
                    };
                    if app.end.is_none()
                        && app.dst == src
                        && ping.outstanding
                        && ping.id == echo.id
                        && ping.seq == echo.seq
                    {
                        ping.outstanding = false;
                        app.report.ping_replies += 1;
                        app.ping_next(&mut self.net);
                        return;
                    }
                }
                self.net.stats.ignored += 1;
            }
            _ => self.net.stats.ignored += 1,
        }
    }

    fn receive_tcp(&mut self, src_mac: MacAddr, src: Ipv4Addr, seg: &TcpSlice<'_>) {
        let (pport, lport) = (seg.source_port(), seg.destination_port());
        // A client connection of ours?
        for app in self.apps.values_mut() {
            if let Proto::Tcp(c) = &app.proto {
                if app.dst == src && c.dst_port == pport && c.src_port == lport {
                    if app.running() || c.state == TcpState::Closed {
                        app.tcp_segment(&mut self.net, seg);
                    } else {
                        self.net.stats.ignored += 1;
                    }
                    return;
                }
            }
        }
        let key = (src, pport, lport);
        let seq = seg.sequence_number();
        if seg.syn() && !seg.ack() {
            // The passive server on every port. A repeated SYN (our SYN-ACK
            // was lost) keeps the connection; another ISN starts afresh.
            let fresh = self.servers.get(&key).is_none_or(|c| c.irs != seq);
            if fresh {
                let iss = u32::from(pport)
                    .wrapping_mul(0x0001_0003)
                    .wrapping_add(u32::from(lport))
                    .wrapping_mul(2654435761);
                self.servers.insert(
                    key,
                    TcpServer {
                        peer_mac: src_mac,
                        iss,
                        irs: seq,
                        rcv_nxt: seq.wrapping_add(1),
                        established: false,
                        received: 0,
                        verified: true,
                        fin: false,
                        unacked: 0,
                    },
                );
            }
            if let Some(c) = self.servers.get_mut(&key) {
                c.peer_mac = src_mac;
            }
            self.server_ack(key, true);
            return;
        }
        let Some(conn) = self.servers.get_mut(&key) else {
            self.net.stats.ignored += 1;
            return;
        };
        conn.peer_mac = src_mac;
        if seg.rst() {
            self.servers.remove(&key);
            return;
        }
        if seg.syn() {
            self.net.stats.ignored += 1;
            return;
        }
        if !conn.established {
            if seg.ack() && seg.acknowledgment_number() == conn.iss.wrapping_add(1) {
                conn.established = true;
            } else {
                self.net.stats.ignored += 1;
                return;
            }
        }
        let data = seg.payload();
        if data.is_empty() && !seg.fin() {
            // A pure ACK: nothing to receive.
            return;
        }
        let mut ack_now = false;
        let rel = seq.wrapping_sub(conn.rcv_nxt) as i32;
        if rel > 0 {
            // A gap: drop it and repeat the cumulative ACK at once.
            self.net.stats.tcp_out_of_order += 1;
            self.server_ack(key, false);
            return;
        }
        let skip = rel.unsigned_abs() as usize;
        if !data.is_empty() {
            if skip >= data.len() {
                // Entirely old (a go-back-N resend): ACK so the sender
                // skips ahead.
                ack_now = true;
            } else {
                let offset = conn.received;
                let new = &data[skip..];
                let bad = new
                    .iter()
                    .enumerate()
                    .filter(|&(i, &b)| b != stream_byte(offset + i))
                    .count();
                if bad > 0 {
                    conn.verified = false;
                    self.net.stats.tcp_content_mismatch += bad as u64;
                }
                conn.received += new.len();
                conn.rcv_nxt = conn.rcv_nxt.wrapping_add(new.len() as u32);
                conn.unacked += 1;
                self.net.stats.tcp_bytes_received += new.len() as u64;
                ack_now = seg.psh() || conn.unacked >= ACK_EVERY;
            }
        }
        if seg.fin() {
            let fin_seq = seq.wrapping_add(data.len() as u32);
            if fin_seq == conn.rcv_nxt && !conn.fin {
                conn.rcv_nxt = conn.rcv_nxt.wrapping_add(1);
                conn.fin = true;
                // Close our side too: one FIN|ACK answers the FIN.
                self.server_fin_ack(key);
                return;
            }
            if conn.fin && seq_lt(fin_seq, conn.rcv_nxt) {
                // The peer repeats its FIN: our FIN|ACK was lost.
                self.server_fin_ack(key);
                return;
            }
        }
        if ack_now {
            self.server_ack(key, false);
        }
    }

    /// Sends the server's FIN|ACK (its FIN takes sequence `iss + 1`).
    fn server_fin_ack(&mut self, key: (Ipv4Addr, u16, u16)) {
        let Some(conn) = self.servers.get_mut(&key) else {
            return;
        };
        conn.unacked = 0;
        let seq = conn.iss.wrapping_add(1);
        let mut h = TcpHeader::new(key.2, key.1, seq, WINDOW as u16);
        h.ack = true;
        h.fin = true;
        h.acknowledgment_number = conn.rcv_nxt;
        let mac = conn.peer_mac;
        if let Some(out) = self.net.tcp(mac, key.0, h, &[], None) {
            self.net.push(out);
        }
    }

    /// Sends the server's cumulative ACK, or its SYN-ACK if `syn`.
    fn server_ack(&mut self, key: (Ipv4Addr, u16, u16), syn: bool) {
        let Some(conn) = self.servers.get_mut(&key) else {
            return;
        };
        conn.unacked = 0;
        let seq = if syn { conn.iss } else { conn.snd_seq() };
        let mut h = TcpHeader::new(key.2, key.1, seq, WINDOW as u16);
        h.ack = true;
        h.syn = syn;
        h.acknowledgment_number = conn.rcv_nxt;
        let mac = conn.peer_mac;
        if let Some(out) = self.net.tcp(mac, key.0, h, &[], None) {
            self.net.push(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay_nic_driver::offload::apply;
    use proptest::prelude::*;

    fn vm(n: u8) -> Vm {
        Vm::new(VmConfig {
            name: format!("vm{n}"),
            mac: MacAddr([2, 0, 0, 0, 0, n]),
            ip: Ipv4Addr::new(10, 0, 0, n),
            mtu: 1500,
            max_send: 16000,
        })
    }

    /// A frame the test network moved: sender index, what the VM handed
    /// over, and the frames the NIC made of it.
    struct Sent {
        from: usize,
        out: Outgoing,
        wire: Vec<Vec<u8>>,
    }

    /// A tiny network: the NIC's offloads (`apply`), then delivery by
    /// destination MAC (broadcast to all others). `drop` may discard a wire
    /// frame. Returns the timeouts it declared.
    fn run(vms: &mut [Vm], log: &mut Vec<Sent>, drop: &mut dyn FnMut(&[u8]) -> bool) -> usize {
        let mut timeouts = 0;
        for _ in 0..100_000 {
            let mut moved = false;
            for i in 0..vms.len() {
                for out in vms[i].take_outbox() {
                    moved = true;
                    let wire = apply(&out.data, &out.offload).expect("NIC refused the offload");
                    for f in &wire {
                        assert!(
                            f.len() <= ETH_LEN + usize::from(vms[i].mtu()),
                            "oversized frame"
                        );
                        if drop(f) {
                            continue;
                        }
                        let dst = MacAddr(f[..6].try_into().unwrap());
                        for (j, v) in vms.iter_mut().enumerate() {
                            if j != i && (dst == MacAddr::BROADCAST || v.mac() == dst) {
                                v.receive(f);
                            }
                        }
                    }
                    log.push(Sent { from: i, out, wire });
                }
            }
            if !moved {
                if timeouts < 50 && vms.iter().any(Vm::apps_running) {
                    timeouts += 1;
                    vms.iter_mut().for_each(Vm::timeout);
                } else {
                    return timeouts;
                }
            }
        }
        panic!("network never went quiet");
    }

    fn done(vm: &Vm, app: AppId) -> AppReport {
        match vm.status(app) {
            AppStatus::Done(r) => r,
            other => panic!("{}: {app} {other:?}", vm.name()),
        }
    }

    #[test]
    fn arp_then_ping() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_ping(vms[1].ip(), 3);
        let timeouts = run(&mut vms, &mut Vec::new(), &mut |_| false);
        let r = done(&vms[0], app);
        assert_eq!((r.pings_sent, r.ping_replies, r.pings_lost), (3, 3, 0));
        assert_eq!(timeouts, 0);
        assert_eq!(vms[0].stats().arp_requests_sent, 1);
        assert_eq!(vms[1].stats().arp_replies_sent, 1);
        assert_eq!(vms[1].stats().icmp_echo_replied, 3);
        assert_eq!(vms[0].arp_entry(vms[1].ip()), Some(vms[1].mac()));
        // B learned A from the request.
        assert_eq!(vms[1].arp_entry(vms[0].ip()), Some(vms[0].mac()));
        assert!(!vms[0].apps_running());
    }

    #[test]
    fn ping_lost_replies_count() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_ping(vms[1].ip(), 4);
        // Drop every echo reply with sequence 2.
        let mut drop = |f: &[u8]| f.len() > 41 && f[23] == 1 && f[34] == 0 && f[40..42] == [0, 2];
        run(&mut vms, &mut Vec::new(), &mut drop);
        let r = done(&vms[0], app);
        assert_eq!((r.pings_sent, r.ping_replies, r.pings_lost), (4, 3, 1));
    }

    #[test]
    fn ping_to_nobody_fails_after_three_arp_requests() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_ping(Ipv4Addr::new(10, 0, 0, 9), 3);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(
            vms[0].status(app),
            AppStatus::Failed("no ARP reply from 10.0.0.9 after 3 requests".into())
        );
        assert_eq!(vms[0].stats().arp_requests_sent, 3);
        assert_eq!(vms[0].report(app).unwrap().pings_sent, 1);
        assert!(!vms[0].apps_running());
    }

    fn tcp_transfer(tso: bool) -> (Vec<Sent>, AppReport, [Vm; 2]) {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_tcp(vms[1].ip(), 5001, 100_000, tso);
        let mut log = Vec::new();
        let timeouts = run(&mut vms, &mut log, &mut |_| false);
        assert_eq!(timeouts, 0);
        let r = done(&vms[0], app);
        assert_eq!(r.tcp_bytes_acked, 100_000);
        assert_eq!(r.tcp_bytes_sent, 100_000);
        assert_eq!(r.retransmissions, 0);
        let rx = vms[1].tcp_received();
        assert_eq!(
            rx,
            vec![(vms[0].ip(), r.src_port, 5001, 100_000, true, true)]
        );
        assert_eq!(vms[1].stats().tcp_bytes_received, 100_000);
        assert_eq!(vms[1].stats().bad_checksum, 0);
        assert_eq!(vms[1].stats().tcp_out_of_order, 0);
        (log, r, vms)
    }

    #[test]
    fn tcp_with_tso() {
        let (log, r, _) = tcp_transfer(true);
        // 6 sends of 16000 bytes and one of 4000, each one TSO frame.
        assert_eq!((r.tcp_sends, r.tcp_largest_send), (7, 16000));
        let sends: Vec<&Sent> = log
            .iter()
            .filter(|s| s.from == 0 && s.out.offload.tso)
            .collect();
        assert_eq!(sends.len(), 7);
        for s in &sends {
            assert_eq!(s.out.offload.mss, 1460);
            assert!(s.out.offload.csum && s.out.offload.ip_csum);
            // The host left the IPv4 checksum to the NIC.
            assert_eq!(s.out.data[24..26], [0, 0]);
        }
        assert_eq!(sends[0].out.data.len(), 54 + 16000);
        assert_eq!(sends[0].wire.len(), 11);
        assert_eq!(sends[6].out.data.len(), 54 + 4000);
    }

    #[test]
    fn tcp_without_tso() {
        let (log, r, _) = tcp_transfer(false);
        assert!(log.iter().all(|s| s.out.offload.is_plain()));
        assert_eq!(r.tcp_largest_send, 1460);
        assert_eq!(r.tcp_sends, 6 * 11 + 3);
    }

    /// The wire segment of A's stream at `offset` (payload), if `f` is one.
    fn data_offset(f: &[u8], iss: u32) -> Option<usize> {
        if f.len() <= 54 || f[23] != 6 || f[29] != 1 {
            return None;
        }
        let seq = u32::from_be_bytes(f[38..42].try_into().unwrap());
        Some(seq.wrapping_sub(iss.wrapping_add(1)) as usize)
    }

    #[test]
    fn tcp_recovers_from_a_lost_segment() {
        for tso in [true, false] {
            // Sends start every 16000 bytes, segments every 1460 within
            // them: the first segment, one in the middle of the second
            // send, and the last one (the only PSH of its send).
            for lost in [0, 16000 + 5 * 1460, 96000 + 2 * 1460] {
                let mut vms = [vm(1), vm(2)];
                let app = vms[0].start_tcp(vms[1].ip(), 80, 100_000, tso);
                let iss = match &vms[0].apps[&app].proto {
                    Proto::Tcp(c) => c.iss,
                    _ => unreachable!(),
                };
                let mut dropped = false;
                let mut drop = |f: &[u8]| {
                    if !dropped && data_offset(f, iss) == Some(lost) {
                        dropped = true;
                        return true;
                    }
                    false
                };
                run(&mut vms, &mut Vec::new(), &mut drop);
                assert!(dropped);
                let r = done(&vms[0], app);
                assert!(r.retransmissions >= 1, "{r:?}");
                assert!(r.tcp_bytes_sent > 100_000);
                assert_eq!(r.tcp_bytes_acked, 100_000);
                let rx = vms[1].tcp_received();
                assert_eq!(rx.len(), 1);
                assert_eq!(rx[0].3, 100_000);
                assert!(rx[0].4 && rx[0].5, "{rx:?}");
                assert_eq!(vms[1].stats().tcp_bytes_received, 100_000);
            }
        }
    }

    #[test]
    fn tcp_lost_syn_ack_and_fin() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_tcp(vms[1].ip(), 80, 3000, false);
        let (mut syn_ack, mut fin) = (false, false);
        let mut drop = |f: &[u8]| {
            if f.len() >= 54 && f[23] == 6 {
                let flags = f[47];
                if flags & 0x12 == 0x12 && !syn_ack {
                    syn_ack = true;
                    return true;
                }
                if flags & 0x01 != 0 && !fin {
                    fin = true;
                    return true;
                }
            }
            false
        };
        run(&mut vms, &mut Vec::new(), &mut drop);
        assert!(syn_ack && fin);
        let r = done(&vms[0], app);
        assert_eq!(r.retransmissions, 2);
        assert_eq!(vms[1].tcp_received()[0].3, 3000);
        assert!(vms[1].tcp_received()[0].5);
    }

    #[test]
    fn tcp_to_silent_peer_fails() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_tcp(vms[1].ip(), 80, 1000, true);
        // Everything B sends after ARP is lost.
        let mut drop = |f: &[u8]| f[6..12] == [2, 0, 0, 0, 0, 2] && f[12..14] == [8, 0];
        run(&mut vms, &mut Vec::new(), &mut drop);
        match vms[0].status(app) {
            AppStatus::Failed(reason) => {
                assert!(
                    reason.contains("no progress after 5 retransmission timeouts"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(vms[0].report(app).unwrap().retransmissions, 4);
    }

    #[test]
    fn udp_burst() {
        let mut vms = [vm(1), vm(2)];
        let app = vms[0].start_udp(vms[1].ip(), 9000, 10_000, 1000);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        let r = done(&vms[0], app);
        assert_eq!((r.udp_datagrams_sent, r.udp_bytes_sent), (10, 10_000));
        assert_eq!(vms[1].stats().udp_datagrams_received, 10);
        assert_eq!(vms[1].stats().udp_bytes_received, 10_000);
        // The last datagram is shorter.
        let mut vms = [vm(1), vm(2)];
        vms[0].start_udp(vms[1].ip(), 9000, 2500, 1000);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(vms[1].stats().udp_datagrams_received, 3);
        assert_eq!(vms[1].stats().udp_bytes_received, 2500);
    }

    #[test]
    fn gratuitous_arp_updates_the_peer() {
        let mut vms = [vm(1), vm(2)];
        vms[0].start_ping(vms[1].ip(), 1);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(vms[0].arp_entry(vms[1].ip()), Some(vms[1].mac()));
        // vm2 "migrates": same IP, new MAC, announced.
        let mut moved = Vm::new(VmConfig {
            mac: MacAddr([2, 0, 0, 0, 0, 0x22]),
            ..vms[1].config().clone()
        });
        moved.gratuitous_arp();
        let [a, _] = vms;
        let mut vms = [a, moved];
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(
            vms[0].arp_entry(vms[1].ip()),
            Some(MacAddr([2, 0, 0, 0, 0, 0x22]))
        );
        assert_eq!(vms[1].stats().gratuitous_arps_sent, 1);
        let before = vms[0].stats().arp_requests_sent;
        let app = vms[0].start_ping(vms[1].ip(), 2);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(done(&vms[0], app).ping_replies, 2);
        assert_eq!(vms[0].stats().arp_requests_sent, before);
    }

    #[test]
    fn forgotten_arp_is_resolved_again() {
        let mut vms = [vm(1), vm(2), vm(3)];
        let app = vms[0].start_tcp(vms[2].ip(), 80, 50_000, true);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        done(&vms[0], app);
        vms[0].forget_arp();
        assert_eq!(vms[0].arp_cache(), vec![]);
        let app = vms[0].start_udp(vms[2].ip(), 7, 100, 10);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        done(&vms[0], app);
        assert_eq!(vms[0].stats().arp_requests_sent, 2);
        assert_eq!(vms[2].stats().udp_datagrams_received, 10);
        // vm2 saw the broadcasts only.
        assert_eq!(vms[1].stats().arp_in, 2);
        assert_eq!(vms[1].stats().tcp_segments_received, 0);
    }

    /// Valid frames of every kind vm1 receives from vm2 (ARP request and
    /// reply, gratuitous ARP, echo request and reply, UDP, TCP SYN-ACK,
    /// data (TSO-segmented), FIN), as the NIC put them on the wire.
    fn sample_frames() -> Vec<Vec<u8>> {
        let mut vms = [vm(1), vm(2)];
        vms[1].gratuitous_arp();
        vms[1].start_ping(vms[0].ip(), 1);
        vms[1].start_udp(vms[0].ip(), 53, 100, 100);
        vms[1].start_tcp(vms[0].ip(), 80, 5000, true);
        vms[0].start_tcp(vms[1].ip(), 80, 100, false);
        vms[0].start_ping(vms[1].ip(), 1);
        let mut log = Vec::new();
        run(&mut vms, &mut log, &mut |_| false);
        log.into_iter()
            .filter(|s| s.from == 1)
            .flat_map(|s| s.wire)
            .collect()
    }

    #[test]
    fn mtu_sets_the_mss_and_raw_frames_pass() {
        let mut vms = [vm(1), vm(2)];
        vms[0].set_mtu(1000);
        let app = vms[0].start_tcp(vms[1].ip(), 80, 20_000, true);
        let mut log = Vec::new();
        run(&mut vms, &mut log, &mut |_| false);
        done(&vms[0], app);
        let tso: Vec<_> = log.iter().filter(|s| s.out.offload.tso).collect();
        assert_eq!(tso.len(), 2);
        assert!(tso.iter().all(|s| s.out.offload.mss == 960));
        assert_eq!(tso[0].wire.len(), 17); // 16000 / 960
        assert_eq!(vms[1].tcp_received()[0].3, 20_000);
        // A raw frame leaves unchanged and is judged by the receiver.
        let probe = log[0].wire[0].clone();
        vms[0].send_raw(probe.clone());
        assert_eq!(vms[0].take_outbox(), vec![plain(probe)]);
    }

    #[test]
    fn arp_for_others_refreshes_known_entries_only() {
        let mut vms = [vm(1), vm(2), vm(3)];
        vms[0].start_ping(vms[1].ip(), 1);
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        // vm3 saw vm1's request for vm2 but learned nothing from it.
        assert_eq!(vms[2].arp_cache(), vec![]);
        // vm2 moves and asks for vm3: vm1 (which knows vm2) updates.
        let mut moved = Vm::new(VmConfig {
            mac: MacAddr([2, 0, 0, 0, 0, 0x22]),
            ..vms[1].config().clone()
        });
        moved.start_ping(vms[2].ip(), 1);
        let [a, _, c] = vms;
        let mut vms = [a, moved, c];
        run(&mut vms, &mut Vec::new(), &mut |_| false);
        assert_eq!(
            vms[0].arp_entry(vms[1].ip()),
            Some(MacAddr([2, 0, 0, 0, 0, 0x22]))
        );
        assert_eq!(vms[0].arp_entry(vms[2].ip()), None);
    }

    #[test]
    fn bad_frames_are_counted() {
        let frames = sample_frames();
        let mut a = vm(1);
        // A UDP datagram with one payload byte flipped.
        let udp = frames.iter().find(|f| f.len() > 23 && f[23] == 17).unwrap();
        let mut bad = udp.clone();
        *bad.last_mut().unwrap() ^= 0x40;
        a.receive(&bad);
        assert_eq!(a.stats().bad_checksum, 1);
        let mut other = udp.clone();
        other[5] = 9;
        a.receive(&other);
        assert_eq!(a.stats().not_for_me, 1);
        a.receive(&udp[..30]);
        assert_eq!(a.stats().malformed, 1);
        a.receive(udp);
        assert_eq!(a.stats().udp_datagrams_received, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut a = vm(1);
            a.receive(&bytes);
            a.timeout();
            let _ = a.take_outbox();
        }

        #[test]
        fn mutated_frames_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut frames = sample_frames();
            let k = pick.index(frames.len());
            let f = &mut frames[k];
            for (at, value) in edits {
                let i = at.index(f.len());
                f[i] = value;
            }
            if truncate {
                f.truncate(cut.index(f.len() + 1));
            }
            // vm1 as in `sample_frames` (same apps, so same ports and
            // ISNs): the whole exchange with one frame mutated reaches the
            // client, the server and ARP in every state.
            let mut a = vm(1);
            a.start_tcp(vm(2).ip(), 80, 100, false);
            a.start_ping(vm(2).ip(), 1);
            for f in &frames {
                a.receive(f);
                let _ = a.take_outbox();
            }
            a.receive(&frames[k]);
            a.timeout();
            let _ = a.take_outbox();
            let _ = (a.stats(), a.tcp_received(), a.apps_running());
        }
    }
}
