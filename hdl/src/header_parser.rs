//! Header parser: a tap that watches a packet stream and extracts the frame's
//! L2/L3/L4 header fields and the TX flow hash (`docs/tx-path.md`, "UDP
//! source port") without ever holding the stream up.
//!
//! Every field is a big-endian 16-bit word at an even byte offset (the L3
//! offset is 14 or 18 and the L4 offset `l3 + 4*IHL` is 2 mod 4), so no
//! field word straddles a beat and each beat is four words `w0..w3` (lanes
//! 0-1, 2-3, 4-5, 6-7). Where each field sits, by beat and word:
//!
//! ```text
//!  beat | w0 (B0-1)     | w1 (B2-3)      | w2 (B4-5)      | w3 (B6-7)
//!  -----+---------------+----------------+----------------+----------------
//!   0   | dmac 0-1      | dmac 2-3       | dmac 4-5       | smac 0-1
//!   1   | smac 2-3      | smac 4-5       | ethertype/TPID | ver,IHL (l3=14)
//!   2   | ethertype(VL) | ver,IHL (l3=18)| frag (l3=14)   | proto (l3=14, B7)
//!   3   | frag (l3=18)  | src 0-1 (14)   | src 2-3 (14)   | dst 0-1 (14)
//!       |               | proto (18, B3) |                | src 0-1 (18)
//!   4   | dst 2-3 (14)  | dst 0-1 (18)   | dst 2-3 (18)   |
//!       | src 2-3 (18)  |                |                |
//!  4-10 | ports at l4 = l3 + 4*IHL: l4 mod 8 is 2 (sport w1, dport w2) or
//!       | 6 (sport w3, dport w0 of the next beat)
//! ```
//!
//! Timing: per-field capture registers and two running partial hashes are
//! updated as beats go by (`beat` high), so the last beat only adds its own
//! words. At the edge that ends a frame's last beat the finished
//! [`ParsedHeader`] is registered: `done` is high for the next cycle and
//! `fields` holds that frame's results until the next frame's last beat has
//! moved. Frames of one beat every cycle, and idle cycles anywhere, are fine.
//! Per-frame state is cleared with each last beat and the power-up values
//! are all 0, so the block needs no reset input.
//!
//! ```text
//!  cycle   |  0  |  1  |  2  |  3  |  4  |  5
//!  beat    |  1  |  0  |  1  |  1L |  1L |  0      (L = tlast)
//!  done    |  0  |  0  |  0  |  0  |  1  |  1
//!  fields  |  previous frame's     |  A  |  B      (A = beats 0-3, B = beat 4)
//! ```
//!
//! Depth (the 156 MHz target): the last beat's paths start at flip-flops
//! and stay a few LUTs deep. The beat index is decoded into flip-flops
//! (`at1_r`..), the port positions are compared a beat ahead into
//! `sp_hit`/`dp_hit`, `len_acc + 8` is kept in a register, and the IPv4 and
//! port conditions are registered at beats 2-3, before they are needed.
//! nextpnr-ecp5 (LFE5U-25F, out of context, ports registered): about
//! 170 MHz at speed grade 6, 200 MHz and more at grade 8.
//!
//! Flow hash: the XOR of seven rotated words is linear, so each word is
//! XORed into a running hash as its beat passes: `hnon` (MACs and
//! ethertype, each masked by whether its field is complete) and `hip`
//! (addresses and protocol, unmasked: only used when the frame is an IPv4
//! flow, which implies all of them are present). The ports are folded in at
//! the end, masked by `ports_valid`. For a runt the non-IP words of the
//! missing fields are the zeros `ParsedHeader` shows (the spec drops runts,
//! so their hash is never used).

use rust_hdl::prelude::*;

/// Everything the parser extracts from one frame. A field the frame is too
/// short to contain is 0 and a flag that depends on it is false.
///
/// MACs and addresses are in wire order: the first byte on the wire is the
/// most significant (`dst_mac[47:40]`, `src_ip[31:24]`).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct ParsedHeader {
    /// Frame length in bytes, saturating at 65535.
    pub length: Bits<16>,
    /// Bytes 0-5 (0 if the frame is shorter than 6 bytes).
    pub dst_mac: Bits<48>,
    /// Bytes 6-11 (0 if the frame is shorter than 12 bytes).
    pub src_mac: Bits<48>,
    /// Bytes 12-13 are `0x8100` and the frame has at least 18 bytes.
    pub vlan: Bit,
    /// Bytes 16-17 with `vlan`, else bytes 12-13 (0 if shorter than 14).
    pub ethertype: Bits<16>,
    /// 18 with `vlan`, else 14 (also for runts: it is the spec's `l3`).
    pub l3_offset: Bits<8>,
    /// IPv4 flow: ethertype `0x0800`, length >= l3 + 20, version 4, IHL >= 5.
    pub ipv4: Bit,
    /// IPv4 header length in words (0 unless `ipv4`).
    pub ihl: Bits<4>,
    /// `l3 + 4*IHL` (0 unless `ipv4`).
    pub l4_offset: Bits<8>,
    /// IPv4 protocol (0 unless `ipv4`).
    pub proto: Bits<8>,
    /// IPv4 source address (0 unless `ipv4`).
    pub src_ip: Bits<32>,
    /// IPv4 destination address (0 unless `ipv4`).
    pub dst_ip: Bits<32>,
    /// `ipv4` and (flags/fragment offset & `0x3fff`) != 0: MF set or an offset.
    pub fragment: Bit,
    /// `ipv4`, not a fragment, protocol 6 or 17, length >= l4 + 4.
    pub ports_valid: Bit,
    /// Bytes l4..l4+2 (0 unless `ports_valid`).
    pub src_port: Bits<16>,
    /// Bytes l4+2..l4+4 (0 unless `ports_valid`).
    pub dst_port: Bits<16>,
    /// The spec's 16-bit flow hash (IPv4 word list when `ipv4`, else the
    /// MACs and ethertype, with this struct's zeros for missing fields).
    pub flow_hash: Bits<16>,
    /// Shorter than 14 bytes (no complete Ethernet header).
    pub runt: Bit,
}

#[derive(LogicBlock, Default)]
pub struct HeaderParser {
    pub clock: Signal<In, Clock>,
    /// The observed stream's data, keep and last (lane 0 = first byte).
    pub tdata: Signal<In, Bits<64>>,
    pub tkeep: Signal<In, Bits<8>>,
    pub tlast: Signal<In, Bit>,
    /// A beat moved on the observed stream this cycle (tvalid & tready).
    pub beat: Signal<In, Bit>,
    /// High for one cycle, the cycle after a frame's last beat moved; the
    /// fields below then hold that frame's results until the next frame's
    /// last beat has moved.
    pub done: Signal<Out, Bit>,
    pub fields: Signal<Out, ParsedHeader>,
    // ---- Per-frame state (see the table above) ----
    /// Beat index in the frame, saturating at 15 (ports end by beat 10).
    idx: DFF<Bits<4>>,
    /// The same, decoded for beats 0-4 into flip-flops (the last beat's
    /// paths start there). Beat 0 is stored inverted so that the power-up
    /// value 0 means "at beat 0".
    not_at0: DFF<Bit>,
    at1_r: DFF<Bit>,
    at2_r: DFF<Bit>,
    at3_r: DFF<Bit>,
    at4_r: DFF<Bit>,
    /// 8 x beats so far; bit 16 set once the frame passed 65535 bytes.
    len_acc: DFF<Bits<17>>,
    /// `len_acc + 8`, kept ready so the last beat needs no adder; stored
    /// XOR 8 so that 0 (power-up, cleared) means 8.
    len_next_x: DFF<Bits<17>>,
    dmac: DFF<Bits<48>>,
    smac_hi: DFF<Bits<16>>,
    smac: DFF<Bits<48>>,
    etype: DFF<Bits<16>>,
    /// Bytes 12-13 were `0x8100` (present): the L3 header is at 18 if the
    /// frame goes on.
    has_tpid: DFF<Bit>,
    vlan: DFF<Bit>,
    /// At least 14 bytes seen.
    l2ok: DFF<Bit>,
    ihl: DFF<Bits<4>>,
    ver4: DFF<Bit>,
    /// Ethertype, version and IHL make an IPv4 header (length not checked).
    ip_ok: DFF<Bit>,
    l4: DFF<Bits<8>>,
    /// Beat of the source port, beat of the destination port (from
    /// `l3 + 4*IHL`, whatever the header says), and whether
    /// the source port is in lanes 6-7 (else 2-3).
    sp_beat: DFF<Bits<4>>,
    dp_beat: DFF<Bits<4>>,
    sp_lane6: DFF<Bit>,
    proto: DFF<Bits<8>>,
    frag: DFF<Bit>,
    /// `ip_ok`, not a fragment, TCP or UDP: the ports count if present.
    port_cond: DFF<Bit>,
    /// The next beat holds the source / destination port (by position only;
    /// `port_cond` decides whether they count).
    sp_hit: DFF<Bit>,
    dp_hit: DFF<Bit>,
    /// The half of an address that ends a beat (dst 0-1 or src 0-1).
    ip_hi: DFF<Bits<16>>,
    sip: DFF<Bits<32>>,
    dip: DFF<Bits<32>>,
    ipv4: DFF<Bit>,
    sport: DFF<Bits<16>>,
    dport: DFF<Bits<16>>,
    pv: DFF<Bit>,
    /// Running partial flow hashes (non-IP and IP word lists).
    hnon: DFF<Bits<16>>,
    hip: DFF<Bits<16>>,
    // ---- Outputs ----
    done_r: DFF<Bit>,
    result: DFF<ParsedHeader>,
    // ---- This beat ----
    w0: Signal<Local, Bits<16>>,
    w1: Signal<Local, Bits<16>>,
    w2: Signal<Local, Bits<16>>,
    w3: Signal<Local, Bits<16>>,
    at0: Signal<Local, Bit>,
    at1: Signal<Local, Bit>,
    at2: Signal<Local, Bit>,
    at3: Signal<Local, Bit>,
    at4: Signal<Local, Bit>,
    /// The VLAN tag is confirmed this beat (inner ethertype present).
    vtag: Signal<Local, Bit>,
    len_next: Signal<Local, Bits<17>>,
    len_inc: Signal<Local, Bits<17>>,
    nlow: Signal<Local, Bits<17>>,
    len_sum: Signal<Local, Bits<17>>,
    len_total: Signal<Local, Bits<16>>,
    ihl_cur: Signal<Local, Bits<4>>,
    l4_cur: Signal<Local, Bits<8>>,
    l4_p2: Signal<Local, Bits<8>>,
    proto_cur: Signal<Local, Bits<8>>,
    frag_cur: Signal<Local, Bit>,
    idx1: Signal<Local, Bits<4>>,
    pv_ok: Signal<Local, Bit>,
    p3: Signal<Local, Bits<16>>,
    p7: Signal<Local, Bits<16>>,
    hnon_base: Signal<Local, Bits<16>>,
    hnon0: Signal<Local, Bits<16>>,
    hnon1: Signal<Local, Bits<16>>,
    hnon_e: Signal<Local, Bits<16>>,
    hip4: Signal<Local, Bits<16>>,
    hip23: Signal<Local, Bits<16>>,
    // ---- Values after this beat (what the frame's result would be) ----
    dmac_now: Signal<Local, Bits<48>>,
    smac_now: Signal<Local, Bits<48>>,
    etype_now: Signal<Local, Bits<16>>,
    vlan_now: Signal<Local, Bit>,
    l2ok_now: Signal<Local, Bit>,
    sip_now: Signal<Local, Bits<32>>,
    dip_now: Signal<Local, Bits<32>>,
    ipv4_now: Signal<Local, Bit>,
    sport_now: Signal<Local, Bits<16>>,
    dport_now: Signal<Local, Bits<16>>,
    pv_now: Signal<Local, Bit>,
    hnon_now: Signal<Local, Bits<16>>,
    hip_fin: Signal<Local, Bits<16>>,
    hip_now: Signal<Local, Bits<16>>,
    ports_hash: Signal<Local, Bits<16>>,
    hash: Signal<Local, Bits<16>>,
    res: Signal<Local, ParsedHeader>,
}

impl Logic for HeaderParser {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, idx, not_at0, at1_r, at2_r, at3_r, at4_r, len_acc, len_next_x, dmac,
            smac_hi, smac, etype, has_tpid, vlan, l2ok, ihl, ver4, ip_ok, l4, sp_beat, dp_beat,
            sp_lane6, proto, frag, port_cond, sp_hit, dp_hit, ip_hi, sip, dip, ipv4, sport, dport,
            pv, hnon, hip, done_r, result
        );
        self.done.next = self.done_r.q.val();
        self.fields.next = self.result.q.val();
        self.done_r.d.next = false;

        // ---- The beat as four big-endian words, and where we are ----
        self.w0.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(0)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(8));
        self.w1.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(16)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(24));
        self.w2.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(32)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(40));
        self.w3.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(48)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(56));
        self.at0.next = !self.not_at0.q.val();
        self.at1.next = self.at1_r.q.val();
        self.at2.next = self.at2_r.q.val();
        self.at3.next = self.at3_r.q.val();
        self.at4.next = self.at4_r.q.val();
        self.vtag.next = self.at2.val() & self.has_tpid.q.val() & self.tkeep.val().get_bit(1);

        // ---- Length: only the last beat may be partial; tkeep is contiguous,
        // so its highest set lane gives the byte count ----
        self.len_next.next = self.len_next_x.q.val() ^ 8;
        self.len_inc.next = self.len_next.val() + 8;
        self.nlow.next = 0.into();
        if self.tkeep.val().get_bit(0) {
            self.nlow.next = 1.into();
        }
        if self.tkeep.val().get_bit(1) {
            self.nlow.next = 2.into();
        }
        if self.tkeep.val().get_bit(2) {
            self.nlow.next = 3.into();
        }
        if self.tkeep.val().get_bit(3) {
            self.nlow.next = 4.into();
        }
        if self.tkeep.val().get_bit(4) {
            self.nlow.next = 5.into();
        }
        if self.tkeep.val().get_bit(5) {
            self.nlow.next = 6.into();
        }
        if self.tkeep.val().get_bit(6) {
            self.nlow.next = 7.into();
        }
        // len_acc is a multiple of 8: below 8 bytes the count just ORs in.
        self.len_sum.next = self.len_acc.q.val() | self.nlow.val();
        if self.tkeep.val().get_bit(7) {
            self.len_sum.next = self.len_next.val();
        }
        self.len_total.next = bit_cast::<16, 17>(self.len_sum.val());
        if self.len_sum.val().get_bit(16) {
            self.len_total.next = 65535.into();
        }

        // ---- L2 ----
        self.dmac_now.next = self.dmac.q.val();
        if self.at0.val() {
            self.dmac_now.next = 0.into();
            if self.tkeep.val().get_bit(5) {
                self.dmac_now.next = (bit_cast::<48, 16>(self.w0.val()) << 32)
                    | (bit_cast::<48, 16>(self.w1.val()) << 16)
                    | bit_cast::<48, 16>(self.w2.val());
            }
        }
        self.smac_now.next = self.smac.q.val();
        if self.at1.val() {
            self.smac_now.next = 0.into();
            if self.tkeep.val().get_bit(3) {
                self.smac_now.next = (bit_cast::<48, 16>(self.smac_hi.q.val()) << 32)
                    | (bit_cast::<48, 16>(self.w0.val()) << 16)
                    | bit_cast::<48, 16>(self.w1.val());
            }
        }
        self.etype_now.next = self.etype.q.val();
        if self.at1.val() {
            self.etype_now.next = 0.into();
            if self.tkeep.val().get_bit(5) {
                self.etype_now.next = self.w2.val();
            }
        }
        if self.vtag.val() {
            self.etype_now.next = self.w0.val();
        }
        self.vlan_now.next = self.vlan.q.val() | self.vtag.val();
        self.l2ok_now.next = self.l2ok.q.val() | (self.at1.val() & self.tkeep.val().get_bit(5));

        // ---- IPv4 header (decided at beat 2, checked for length at beat 4) ----
        self.ihl_cur.next = self.ihl.q.val();
        self.l4_cur.next = (bit_cast::<8, 4>(self.ihl_cur.val()) << 2) + 14;
        if self.has_tpid.q.val() {
            self.ihl_cur.next = self.tdata.val().get_bits::<4>(16);
            self.l4_cur.next = (bit_cast::<8, 4>(self.ihl_cur.val()) << 2) + 18;
        }
        self.l4_p2.next = self.l4_cur.val() + 2;
        self.proto_cur.next = self.proto.q.val();
        self.frag_cur.next = self.frag.q.val();
        if self.has_tpid.q.val() {
            self.proto_cur.next = self.tdata.val().get_bits::<8>(24);
            self.frag_cur.next = (self.w0.val() & 0x3fff) != 0;
        }
        self.sip_now.next = self.sip.q.val();
        self.dip_now.next = self.dip.q.val();
        if self.at3.val() & !self.has_tpid.q.val() {
            self.sip_now.next =
                (bit_cast::<32, 16>(self.w1.val()) << 16) | bit_cast::<32, 16>(self.w2.val());
        }
        if self.at4.val() {
            if self.has_tpid.q.val() {
                self.sip_now.next = (bit_cast::<32, 16>(self.ip_hi.q.val()) << 16)
                    | bit_cast::<32, 16>(self.w0.val());
                self.dip_now.next =
                    (bit_cast::<32, 16>(self.w1.val()) << 16) | bit_cast::<32, 16>(self.w2.val());
            } else {
                self.dip_now.next = (bit_cast::<32, 16>(self.ip_hi.q.val()) << 16)
                    | bit_cast::<32, 16>(self.w0.val());
            }
        }
        // The header's last byte (l3 + 19) is lane 1 (l3 = 14) or 5 (18) of beat 4.
        self.ipv4_now.next = self.ipv4.q.val()
            | (self.at4.val()
                & self.ip_ok.q.val()
                & ((self.has_tpid.q.val() & self.tkeep.val().get_bit(5))
                    | (!self.has_tpid.q.val() & self.tkeep.val().get_bit(1))));

        // ---- Ports: position compares against the beat index, made a beat
        // ahead so the last beat only selects ----
        self.idx1.next = self.idx.q.val() + 1;
        self.sport_now.next = self.sport.q.val();
        self.dport_now.next = self.dport.q.val();
        self.pv_now.next = self.pv.q.val();
        if self.sp_hit.q.val() {
            self.sport_now.next = self.w1.val();
            if self.sp_lane6.q.val() {
                self.sport_now.next = self.w3.val();
            }
        }
        if self.dp_hit.q.val() {
            if self.sp_lane6.q.val() {
                self.dport_now.next = self.w0.val();
                self.pv_now.next = self.tkeep.val().get_bit(1);
            } else {
                self.dport_now.next = self.w2.val();
                self.pv_now.next = self.tkeep.val().get_bit(5);
            }
        }
        // Ports count for TCP/UDP in an unfragmented IPv4 header (decided at
        // beat 3; the ports come at beat 4 or later).
        self.pv_ok.next = self.port_cond.q.val() & self.pv_now.val();

        // ---- Flow hash: word i rotated left by 3*i mod 16 ----
        // Each beat's words XOR in as separate terms (shallow logic).
        // Non-IP list: dmac 0-1, 2-3, 4-5, smac 0-1, 2-3, 4-5, ethertype.
        self.hnon_base.next = self.hnon.q.val();
        self.hnon0.next = 0.into();
        if self.at0.val() {
            // Beat 0 starts the frame's hash.
            self.hnon_base.next = 0.into();
            if self.tkeep.val().get_bit(5) {
                self.hnon0.next = self.w0.val()
                    ^ ((self.w1.val() << 3) | (self.w1.val() >> 13))
                    ^ ((self.w2.val() << 6) | (self.w2.val() >> 10));
            }
        }
        self.hnon1.next = 0.into();
        if self.at1.val() & self.tkeep.val().get_bit(3) {
            self.hnon1.next = ((self.smac_hi.q.val() << 9) | (self.smac_hi.q.val() >> 7))
                ^ ((self.w0.val() << 12) | (self.w0.val() >> 4))
                ^ ((self.w1.val() << 15) | (self.w1.val() >> 1));
        }
        // The TPID counts as the ethertype until the inner one arrives; then
        // rotl(0x8100, 2) = 0x0402 is swapped for it.
        self.hnon_e.next = 0.into();
        if self.at1.val() & self.tkeep.val().get_bit(5) {
            self.hnon_e.next = (self.w2.val() << 2) | (self.w2.val() >> 14);
        }
        if self.vtag.val() {
            self.hnon_e.next = ((self.w0.val() << 2) | (self.w0.val() >> 14)) ^ 1026;
        }
        self.hnon_now.next =
            self.hnon_base.val() ^ self.hnon0.val() ^ self.hnon1.val() ^ self.hnon_e.val();
        // IPv4 list: src 0-1, 2-3, dst 0-1, 2-3, proto, sport, dport. Only
        // beat 4 can complete an IPv4 flow, so the frame's result needs just
        // beat 4's words (`hip_fin`); beats 2-3 (`hip23`) only feed the register.
        self.hip4.next = 0.into();
        if self.at4.val() {
            if self.has_tpid.q.val() {
                self.hip4.next = ((self.w0.val() << 3) | (self.w0.val() >> 13))
                    ^ ((self.w1.val() << 6) | (self.w1.val() >> 10))
                    ^ ((self.w2.val() << 9) | (self.w2.val() >> 7));
            } else {
                self.hip4.next = (self.w0.val() << 9) | (self.w0.val() >> 7);
            }
        }
        self.p7.next = bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(56));
        self.p3.next = bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(24));
        self.hip23.next = 0.into();
        if self.at2.val() & !self.has_tpid.q.val() {
            self.hip23.next = (self.p7.val() << 12) | (self.p7.val() >> 4);
        }
        if self.at3.val() {
            if self.has_tpid.q.val() {
                self.hip23.next = ((self.p3.val() << 12) | (self.p3.val() >> 4)) ^ self.w3.val();
            } else {
                self.hip23.next = self.w1.val()
                    ^ ((self.w2.val() << 3) | (self.w2.val() >> 13))
                    ^ ((self.w3.val() << 6) | (self.w3.val() >> 10));
            }
        }
        self.hip_fin.next = self.hip.q.val() ^ self.hip4.val();
        self.hip_now.next = self.hip_fin.val() ^ self.hip23.val();
        self.ports_hash.next = ((self.sport_now.val() << 15) | (self.sport_now.val() >> 1))
            ^ ((self.dport_now.val() << 2) | (self.dport_now.val() >> 14));
        self.hash.next = self.hnon_now.val();
        if self.ipv4_now.val() {
            self.hash.next = self.hip_fin.val();
            if self.pv_ok.val() {
                self.hash.next = self.hip_fin.val() ^ self.ports_hash.val();
            }
        }

        // ---- The frame's result, if this is its last beat ----
        self.res.next.length = self.len_total.val();
        self.res.next.dst_mac = self.dmac_now.val();
        self.res.next.src_mac = self.smac_now.val();
        self.res.next.vlan = self.vlan_now.val();
        self.res.next.ethertype = self.etype_now.val();
        self.res.next.l3_offset = 14.into();
        if self.vlan_now.val() {
            self.res.next.l3_offset = 18.into();
        }
        self.res.next.ipv4 = self.ipv4_now.val();
        self.res.next.ihl = 0.into();
        self.res.next.l4_offset = 0.into();
        self.res.next.proto = 0.into();
        self.res.next.src_ip = 0.into();
        self.res.next.dst_ip = 0.into();
        if self.ipv4_now.val() {
            self.res.next.ihl = self.ihl.q.val();
            self.res.next.l4_offset = self.l4.q.val();
            self.res.next.proto = self.proto.q.val();
            self.res.next.src_ip = self.sip_now.val();
            self.res.next.dst_ip = self.dip_now.val();
        }
        self.res.next.fragment = self.ipv4_now.val() & self.frag.q.val();
        self.res.next.ports_valid = self.pv_ok.val();
        self.res.next.src_port = 0.into();
        self.res.next.dst_port = 0.into();
        if self.pv_ok.val() {
            self.res.next.src_port = self.sport_now.val();
            self.res.next.dst_port = self.dport_now.val();
        }
        self.res.next.flow_hash = self.hash.val();
        self.res.next.runt = !self.l2ok_now.val();

        // ---- State ----
        if self.beat.val() {
            // Captures read only by later beats of the same frame.
            if self.at0.val() {
                self.smac_hi.d.next = self.w3.val();
            }
            if self.at1.val() {
                self.has_tpid.d.next = self.tkeep.val().get_bit(5) & (self.w2.val() == 33024);
                self.ihl.d.next = self.tdata.val().get_bits::<4>(48);
                self.ver4.d.next = self.tdata.val().get_bits::<4>(52) == 4;
            }
            if self.at2.val() {
                self.ihl.d.next = self.ihl_cur.val();
                // Per branch rather than through etype_now: shallower.
                self.ip_ok.d.next =
                    (self.etype.q.val() == 2048) & self.ver4.q.val() & (self.ihl.q.val() >= 5);
                if self.has_tpid.q.val() {
                    self.ip_ok.d.next = self.tkeep.val().get_bit(1)
                        & (self.w0.val() == 2048)
                        & (self.tdata.val().get_bits::<4>(20) == 4)
                        & (self.tdata.val().get_bits::<4>(16) >= 5);
                }
                self.l4.d.next = self.l4_cur.val();
                self.sp_beat.d.next = self.l4_cur.val().get_bits::<4>(3);
                self.dp_beat.d.next = self.l4_p2.val().get_bits::<4>(3);
                self.sp_lane6.d.next = self.l4_cur.val().get_bit(2);
                if !self.has_tpid.q.val() {
                    self.proto.d.next = self.tdata.val().get_bits::<8>(56);
                    self.frag.d.next = (self.w2.val() & 0x3fff) != 0;
                }
            }
            if self.at3.val() {
                self.ip_hi.d.next = self.w3.val();
                self.proto.d.next = self.proto_cur.val();
                self.frag.d.next = self.frag_cur.val();
                self.port_cond.d.next = self.ip_ok.q.val()
                    & !self.frag_cur.val()
                    & ((self.proto_cur.val() == 6) | (self.proto_cur.val() == 17));
            }
            // Running values.
            self.not_at0.d.next = true;
            self.at1_r.d.next = self.at0.val();
            self.at2_r.d.next = self.at1.val();
            self.at3_r.d.next = self.at2.val();
            self.at4_r.d.next = self.at3.val();
            if self.idx.q.val() != 15 {
                self.idx.d.next = self.idx.q.val() + 1;
            }
            // Both stop at 65536 (bit 16: saturated).
            self.len_acc.d.next = self.len_next.val();
            if !self.len_next.val().get_bit(16) {
                self.len_next_x.d.next = self.len_inc.val() ^ 8;
            }
            self.dmac.d.next = self.dmac_now.val();
            self.smac.d.next = self.smac_now.val();
            self.etype.d.next = self.etype_now.val();
            self.vlan.d.next = self.vlan_now.val();
            self.l2ok.d.next = self.l2ok_now.val();
            self.sip.d.next = self.sip_now.val();
            self.dip.d.next = self.dip_now.val();
            self.ipv4.d.next = self.ipv4_now.val();
            self.sport.d.next = self.sport_now.val();
            self.dport.d.next = self.dport_now.val();
            self.pv.d.next = self.pv_now.val();
            // From beat 3 on, the port beats are this frame's.
            self.sp_hit.d.next =
                (self.idx.q.val() >= 3) & (self.idx1.val() == self.sp_beat.q.val());
            self.dp_hit.d.next =
                (self.idx.q.val() >= 3) & (self.idx1.val() == self.dp_beat.q.val());
            self.hnon.d.next = self.hnon_now.val();
            self.hip.d.next = self.hip_now.val();
            if self.tlast.val() {
                self.done_r.d.next = true;
                self.result.d.next = self.res.val();
                // Clear what the next frame reads before writing it.
                self.idx.d.next = 0.into();
                self.not_at0.d.next = false;
                self.at1_r.d.next = false;
                self.at2_r.d.next = false;
                self.at3_r.d.next = false;
                self.at4_r.d.next = false;
                self.len_acc.d.next = 0.into();
                self.len_next_x.d.next = 0.into();
                self.smac.d.next = 0.into();
                self.etype.d.next = 0.into();
                self.vlan.d.next = false;
                self.l2ok.d.next = false;
                self.ipv4.d.next = false;
                self.port_cond.d.next = false;
                self.sp_hit.d.next = false;
                self.dp_hit.d.next = false;
                self.pv.d.next = false;
                self.hip.d.next = 0.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parser_is_synthesizable() {
        let mut uut = HeaderParser::default();
        uut.connect_all();
        yosys_validate("header_parser", &generate_verilog(&uut)).unwrap();
    }
}
