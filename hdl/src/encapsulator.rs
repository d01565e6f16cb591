//! Streaming VXLAN header inserter: puts the 50-byte outer header (54 with
//! the outer 802.1Q tag) of `docs/tx-path.md` in front of every frame whose
//! descriptor says `encap`, and passes every other frame through unchanged.
//!
//! Nothing is stored but one beat's tail: the header is generated beat by
//! beat while the frame's first beat waits at the input, then the payload
//! follows shifted by `S` lanes (`S` = 2, or 6 with VLAN: 50 = 6 * 8 + 2),
//! each output beat carrying the previous input beat's last `S` bytes.
//!
//! ```text
//!  out beat | lanes 0..7 (lane 0 = first byte on the wire), no VLAN      | with VLAN (S = 6)
//!  ---------+------------------------------------------------------------+---------------------------------------------------
//!     0     | dst MAC 0-5            | src MAC 0-1                       | same
//!     1     | src MAC 2-5            | 08 00 | 45 | 00                    | src MAC 2-5 | 81 00 | TCI
//!     2     | total len | ident      | flags (DF) | TTL | 17             | 08 00 | 45 | 00 | total len | ident
//!     3     | checksum  | src IP 0-3             | dst IP 0-1            | flags | TTL | 17 | checksum | src IP 0-1
//!     4     | dst IP 2-3 | UDP src | UDP dst | UDP len                   | src IP 2-3 | dst IP 0-3 | UDP src
//!     5     | UDP csum | 08 00 00 00 | VNI 0-1                           | UDP dst | UDP len | UDP csum | 08 00
//!     6     | VNI 2 | 00 | payload 0-5                                   | 00 00 | VNI 0-2 | 00 | payload 0-1
//!   6 + j   | payload 8j-2 .. 8j+5 (previous beat's tail, this beat's head) | payload 8j-6 .. 8j+1
//!   extra   | the last input beat's tail, when it does not fit           | same
//! ```
//!
//! Zero bubbles: a frame of `L` bytes takes exactly `ceil((L + H) / 8)`
//! output cycles (`H` = 50, 54, or 0 for passthrough) and the next frame's
//! first beat follows the cycle after, because the header needs no input:
//! header beat 0 is made from the descriptor of the beat waiting at the
//! input, in the same cycle the previous frame's last beat leaves. (The
//! usual open-source inserter spends a cycle latching the descriptor first
//! and so loses a cycle per frame.)
//!
//! The IPv4 header checksum is needed only in beat 3, so it is pipelined
//! over beats 0-2 instead of being one wide adder: the descriptor's terms
//! and the configuration's are summed in two registers as beat 0 leaves,
//! the two and the identification during beat 1, and the end-around carries
//! are folded and complemented during beat 2. The optional outer UDP
//! checksum (`vtep.udp_checksum`; `docs/tx-offload.md`) is needed only in
//! beat 5 and goes the same way: pseudo-header, UDP header and VXLAN header
//! words plus the descriptor's `inner_sum` (the inner frame starts at an
//! even outer offset, 50 or 54, so its natural-word sum adds as it is), in
//! two registers as beat 0 leaves, one sum during beat 1, folded and
//! complemented (0 sent as 0xffff) during beat 2; with the option clear the
//! register holds 0, the field RFC 7348 allows. The configuration is read as
//! the header goes out (it is stable while frames flow), except the VLAN
//! choice, which is latched per frame since it decides the payload's shift.
//!
//! The descriptor's `length` gives the IPv4 and UDP lengths (the TX buffer
//! guarantees it); the output's `tkeep`/`tlast` come from the input's own, so
//! a wrong `length` yields a wrong header field but never a truncated or
//! overrun frame. `tuser` matters only while a first beat is valid at the
//! input: the header mux passes it on only then, and the descriptor
//! registers load only then.
//!
//! The output goes through a [`SkidBuffer`], so `m_axis` comes from
//! flip-flops and `s_axis.tready` never depends on `m_axis.tready`. Between
//! frames `s_axis.tready` does depend on `s_axis.tvalid` and the
//! descriptor's `encap` (an encapsulated frame's first beat waits through
//! the header), which AXI4-Stream allows: a source's `tvalid` never waits
//! for `tready`.

use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{TxDescriptor, VtepConfig};
use rust_hdl::prelude::*;

/// Where the encapsulator is in a frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq, LogicState)]
pub enum EncapState {
    /// Between frames: a first beat at the input starts a passthrough frame
    /// (forwarded at once) or an encapsulated one (header beat 0 goes out).
    Start,
    /// Forwarding a passthrough frame's later beats.
    Pass,
    /// Sending header beats 1 to 5 (`hbeat`); the input waits.
    Header,
    /// Sending the held tail (header tail, then payload) with the next
    /// input beat's head.
    Body,
    /// Sending the last input beat's tail that did not fit.
    Flush,
}

#[derive(LogicBlock, Default)]
pub struct Encapsulator {
    pub clock: Signal<In, Clock>,
    /// Frames from the TX packet buffer, descriptor valid with the first
    /// beat and held stable while that beat waits (AXI rule).
    pub s_axis: StreamSink<TxDescriptor>,
    /// Local VTEP configuration (stable while frames flow).
    pub vtep: Signal<In, VtepConfig>,
    /// Frames to the wire (Ethernet without FCS); `tuser` unused, always 0.
    pub m_axis: StreamSource<Bit>,
    /// Encapsulated frames sent (wrapping); its low 16 bits are the next
    /// IPv4 identification.
    pub encapsulated: Signal<Out, Bits<32>>,
    out: SkidBuffer<Bit>,
    state: DFF<EncapState>,
    /// Header beat being sent in `Header` (1 to 5).
    hbeat: DFF<Bits<3>>,
    // The frame's descriptor and VLAN choice, loaded as header beat 0 leaves.
    vlan: DFF<Bit>,
    dst_ip: DFF<Bits<32>>,
    src_port: DFF<Bits<16>>,
    vni: DFF<Bits<24>>,
    length: DFF<Bits<16>>,
    count: DFF<Bits<32>>,
    // Checksum pipeline.
    sum_desc: DFF<Bits<18>>,
    sum_vtep: DFF<Bits<19>>,
    sum_all: DFF<Bits<20>>,
    csum: DFF<Bits<16>>,
    // Outer UDP checksum pipeline (the same stages).
    usum_desc: DFF<Bits<20>>,
    usum_vtep: DFF<Bits<19>>,
    usum_all: DFF<Bits<21>>,
    ucsum: DFF<Bits<16>>,
    /// Bytes waiting for the next output beat, in lanes 0 to S-1.
    tail: DFF<Bits<48>>,
    /// `tkeep` of `tail` for the `Flush` beat.
    tail_keep: DFF<Bits<8>>,
    // Fields, computed every cycle. No value of 32 bits or fewer is shifted
    // here: rust-hdl shifts those (and takes their `get_bits`) through
    // heap-allocated big integers, which made the simulation 5 to 7 times
    // slower.
    // Byte lanes are assembled only in the state (and header beat) that
    // sends them.
    ready: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    in_encap: Signal<Local, Bit>,
    in_dmac: Signal<Local, Bits<48>>,
    in_dip: Signal<Local, Bits<32>>,
    in_len: Signal<Local, Bits<16>>,
    v_mac: Signal<Local, Bits<48>>,
    v_ip: Signal<Local, Bits<32>>,
    v_udp: Signal<Local, Bits<16>>,
    v_ttl: Signal<Local, Bits<8>>,
    v_tci: Signal<Local, Bits<16>>,
    total_len: Signal<Local, Bits<16>>,
    udp_len: Signal<Local, Bits<16>>,
    ident: Signal<Local, Bits<16>>,
    df_byte: Signal<Local, Bits<8>>,
    flags: Signal<Local, Bits<16>>,
    fold1: Signal<Local, Bits<17>>,
    fold2: Signal<Local, Bits<16>>,
    in_vni: Signal<Local, Bits<64>>,
    ufold1: Signal<Local, Bits<17>>,
    ufold2: Signal<Local, Bits<16>>,
    /// The input's last beat fits in the current output beat.
    fits: Signal<Local, Bit>,
    /// `s_axis.tready`, worked out before it is driven.
    in_ready: Signal<Local, Bit>,
}

impl Logic for Encapsulator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, hbeat, vlan, dst_ip, src_port, vni, length, count, sum_desc,
            sum_vtep, sum_all, csum, usum_desc, usum_vtep, usum_all, ucsum, tail, tail_keep
        );
        clock!(self, clock, out);
        StreamSource::<Bit>::link(&mut self.m_axis, &mut self.out.m_axis);
        self.encapsulated.next = self.count.q.val();
        // Driven once, at the end, from `in_ready`: a port assigned twice
        // in a kernel glitches in event-driven Verilog simulators, and this
        // one loops back through the TX buffer (docs/rust-hdl-notes.md).
        self.in_ready.next = false;
        self.out.s_axis.tvalid.next = false;
        self.out.s_axis.tdata.next = 0.into();
        self.out.s_axis.tkeep.next = 255.into();
        self.out.s_axis.tlast.next = false;
        self.out.s_axis.tuser.next = false;

        // ---- Fields ----
        // The skid buffer's tready is a register: no path from m_axis.tready.
        self.ready.next = self.out.s_axis.tready.val();
        self.take.next = self.s_axis.tvalid.val() & self.ready.val();
        self.in_encap.next = self.s_axis.tvalid.val() & self.s_axis.tuser.val().encap;
        self.in_dmac.next = self.s_axis.tuser.val().dst_mac;
        self.in_dip.next = self.s_axis.tuser.val().dst_ip;
        self.in_len.next = self.s_axis.tuser.val().length;
        self.v_mac.next = self.vtep.val().mac;
        self.v_ip.next = self.vtep.val().ip;
        self.v_udp.next = self.vtep.val().udp_port;
        self.v_ttl.next = self.vtep.val().ttl;
        self.v_tci.next = self.vtep.val().vlan_tci;
        // Lengths fit 16 bits for every frame IPv4 can carry (<= 65499).
        self.total_len.next = self.length.q.val() + 36;
        self.udp_len.next = self.length.q.val() + 16;
        self.ident.next = bit_cast::<16, 32>(self.count.q.val());
        self.df_byte.next = 0.into();
        self.flags.next = 0.into();
        if self.vtep.val().df {
            self.df_byte.next = 64.into();
            self.flags.next = 16384.into();
        }
        // The last beat's bytes all fit behind the S held bytes when its
        // lane 8 - S is empty.
        self.fits.next = !self.s_axis.tkeep.val().get_bit(6);
        if self.vlan.q.val() {
            self.fits.next = !self.s_axis.tkeep.val().get_bit(2);
        }
        // The checksum's end-around carries (the sum is at most 0x7842f, so
        // two leave 16 bits); the high parts are taken by shifting a 64-bit
        // copy, which the simulation does without allocating.
        self.fold1.next = bit_cast::<17, 16>(bit_cast::<16, 20>(self.sum_all.q.val()))
            + bit_cast::<17, 64>(bit_cast::<64, 20>(self.sum_all.q.val()) >> 16);
        self.fold2.next = bit_cast::<16, 17>(self.fold1.val())
            + bit_cast::<16, 64>(bit_cast::<64, 17>(self.fold1.val()) >> 16);
        // The same for the UDP sum (below 0xb0827: two carries leave 16 bits).
        self.ufold1.next = bit_cast::<17, 16>(bit_cast::<16, 21>(self.usum_all.q.val()))
            + bit_cast::<17, 64>(bit_cast::<64, 21>(self.usum_all.q.val()) >> 16);
        self.ufold2.next = bit_cast::<16, 17>(self.ufold1.val())
            + bit_cast::<16, 64>(bit_cast::<64, 17>(self.ufold1.val()) >> 16);
        self.in_vni.next = bit_cast::<64, 24>(self.s_axis.tuser.val().vni);

        // ---- Beats (see the table above) ----
        match self.state.q.val() {
            EncapState::Start => {
                if self.in_encap.val() {
                    // Header beat 0 while the first beat waits at the input:
                    // dst MAC 0-5, src MAC 0-1.
                    self.out.s_axis.tvalid.next = true;
                    self.out.s_axis.tdata.next =
                        bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(40))
                            | (bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(32)) << 8)
                            | (bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(24)) << 16)
                            | (bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(16)) << 24)
                            | (bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(8)) << 32)
                            | (bit_cast::<64, 8>(self.in_dmac.val().get_bits::<8>(0)) << 40)
                            | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(40)) << 48)
                            | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(32)) << 56);
                    if self.ready.val() {
                        self.state.d.next = EncapState::Header;
                        self.hbeat.d.next = 1.into();
                        self.vlan.d.next = self.vtep.val().vlan_enable;
                        self.dst_ip.d.next = self.in_dip.val();
                        self.src_port.d.next = self.s_axis.tuser.val().src_port;
                        self.vni.d.next = self.s_axis.tuser.val().vni;
                        self.length.d.next = self.in_len.val();
                        // Checksum stage 1: the descriptor's terms and the
                        // configuration's (version/IHL/TOS 0x4500, the 36 of
                        // the total length and protocol 17 make 17717).
                        self.sum_desc.d.next = bit_cast::<18, 16>(self.in_len.val())
                            + bit_cast::<18, 16>(self.in_dip.val().get_bits::<16>(16))
                            + bit_cast::<18, 16>(self.in_dip.val().get_bits::<16>(0));
                        self.sum_vtep.d.next = (bit_cast::<19, 8>(self.v_ttl.val()) << 8)
                            + bit_cast::<19, 16>(self.flags.val())
                            + bit_cast::<19, 16>(self.v_ip.val().get_bits::<16>(16))
                            + bit_cast::<19, 16>(self.v_ip.val().get_bits::<16>(0))
                            + 17717u64;
                        // UDP checksum stage 1: the descriptor's terms
                        // (destination address, source port, the UDP length
                        // twice as 2 * length + 32, the VXLAN header's VNI
                        // words vni[23:8] and vni[7:0] << 8, the inner sum)
                        // and the configuration's (source address,
                        // destination port, and 17 + 32 + 0x0800 = 2097:
                        // protocol, the lengths' 16s, the VXLAN flags).
                        self.usum_desc.d.next = bit_cast::<20, 16>(self.in_len.val())
                            + bit_cast::<20, 16>(self.in_len.val())
                            + bit_cast::<20, 16>(self.in_dip.val().get_bits::<16>(16))
                            + bit_cast::<20, 16>(self.in_dip.val().get_bits::<16>(0))
                            + bit_cast::<20, 16>(self.s_axis.tuser.val().src_port)
                            + bit_cast::<20, 64>(self.in_vni.val() >> 8)
                            + bit_cast::<20, 64>((self.in_vni.val() & 0xffu64) << 8)
                            + bit_cast::<20, 16>(self.s_axis.tuser.val().inner_sum);
                        self.usum_vtep.d.next =
                            bit_cast::<19, 16>(self.v_ip.val().get_bits::<16>(16))
                                + bit_cast::<19, 16>(self.v_ip.val().get_bits::<16>(0))
                                + bit_cast::<19, 16>(self.v_udp.val())
                                + 2097u64;
                    }
                } else {
                    // Passthrough (or nothing): forward the beat as it is.
                    self.in_ready.next = self.ready.val();
                    self.out.s_axis.tvalid.next = self.s_axis.tvalid.val();
                    self.out.s_axis.tdata.next = self.s_axis.tdata.val();
                    self.out.s_axis.tkeep.next = self.s_axis.tkeep.val();
                    self.out.s_axis.tlast.next = self.s_axis.tlast.val();
                    if self.take.val() & !self.s_axis.tlast.val() {
                        self.state.d.next = EncapState::Pass;
                    }
                }
            }
            EncapState::Pass => {
                self.in_ready.next = self.ready.val();
                self.out.s_axis.tvalid.next = self.s_axis.tvalid.val();
                self.out.s_axis.tdata.next = self.s_axis.tdata.val();
                self.out.s_axis.tkeep.next = self.s_axis.tkeep.val();
                self.out.s_axis.tlast.next = self.s_axis.tlast.val();
                if self.take.val() & self.s_axis.tlast.val() {
                    self.state.d.next = EncapState::Start;
                }
            }
            EncapState::Header => {
                self.out.s_axis.tvalid.next = true;
                // Checksum stage 2 (the sum, during beat 1) and stage 3 (the
                // folded complement, during beat 2): ready for beat 3.
                if self.hbeat.q.val() == 1 {
                    self.usum_all.d.next = bit_cast::<21, 20>(self.usum_desc.q.val())
                        + bit_cast::<21, 19>(self.usum_vtep.q.val());
                    self.sum_all.d.next = bit_cast::<20, 18>(self.sum_desc.q.val())
                        + bit_cast::<20, 19>(self.sum_vtep.q.val())
                        + bit_cast::<20, 16>(self.ident.val());
                }
                if self.hbeat.q.val() == 2 {
                    self.csum.d.next = !self.fold2.val();
                    self.ucsum.d.next = 0.into();
                    if self.vtep.val().udp_checksum {
                        // UDP's 0 means "no checksum": a zero result goes as
                        // 0xffff (the same in ones' complement).
                        self.ucsum.d.next = !self.ufold2.val();
                        if self.ufold2.val() == 0xffff {
                            self.ucsum.d.next = 0xffff.into();
                        }
                    }
                }
                if self.vlan.q.val() {
                    match self.hbeat.q.val().index() {
                        1 => {
                            // src MAC 2-5, TPID 0x8100, TCI.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(24))
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(16)) << 8)
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(8)) << 16)
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(0)) << 24)
                                    | 0x81_0000_0000u64
                                    | (bit_cast::<64, 8>(self.v_tci.val().get_bits::<8>(8)) << 48)
                                    | (bit_cast::<64, 8>(self.v_tci.val().get_bits::<8>(0)) << 56);
                        }
                        2 => {
                            // Ethertype 0x0800, 0x45, TOS 0, total length,
                            // identification.
                            self.out.s_axis.tdata.next = 0x45_0008u64
                                | (bit_cast::<64, 8>(self.total_len.val().get_bits::<8>(8)) << 32)
                                | (bit_cast::<64, 8>(self.total_len.val().get_bits::<8>(0)) << 40)
                                | (bit_cast::<64, 8>(self.ident.val().get_bits::<8>(8)) << 48)
                                | (bit_cast::<64, 8>(self.ident.val().get_bits::<8>(0)) << 56);
                        }
                        3 => {
                            // Flags, TTL, protocol 17, checksum, src IP 0-1.
                            self.out.s_axis.tdata.next = bit_cast::<64, 8>(self.df_byte.val())
                                | (bit_cast::<64, 8>(self.v_ttl.val()) << 16)
                                | 0x1100_0000u64
                                | (bit_cast::<64, 8>(self.csum.q.val().get_bits::<8>(8)) << 32)
                                | (bit_cast::<64, 8>(self.csum.q.val().get_bits::<8>(0)) << 40)
                                | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(24)) << 48)
                                | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(16)) << 56);
                        }
                        4 => {
                            // src IP 2-3, dst IP, UDP source port.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(8))
                                    | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(0)) << 8)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(24))
                                        << 16)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(16))
                                        << 24)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(8))
                                        << 32)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(0))
                                        << 40)
                                    | (bit_cast::<64, 8>(self.src_port.q.val().get_bits::<8>(8))
                                        << 48)
                                    | (bit_cast::<64, 8>(self.src_port.q.val().get_bits::<8>(0))
                                        << 56);
                        }
                        5 => {
                            // UDP dst port, length, checksum; VXLAN flags
                            // 0x08, 0.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.v_udp.val().get_bits::<8>(8))
                                    | (bit_cast::<64, 8>(self.v_udp.val().get_bits::<8>(0)) << 8)
                                    | (bit_cast::<64, 8>(self.udp_len.val().get_bits::<8>(8))
                                        << 16)
                                    | (bit_cast::<64, 8>(self.udp_len.val().get_bits::<8>(0))
                                        << 24)
                                    | (bit_cast::<64, 8>(self.ucsum.q.val().get_bits::<8>(8))
                                        << 32)
                                    | (bit_cast::<64, 8>(self.ucsum.q.val().get_bits::<8>(0))
                                        << 40)
                                    | 0x08_0000_0000_0000u64;
                        }
                        _ => {}
                    }
                } else {
                    match self.hbeat.q.val().index() {
                        1 => {
                            // src MAC 2-5, ethertype 0x0800, 0x45, TOS 0.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(24))
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(16)) << 8)
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(8)) << 16)
                                    | (bit_cast::<64, 8>(self.v_mac.val().get_bits::<8>(0)) << 24)
                                    | 0x45_0008_0000_0000u64;
                        }
                        2 => {
                            // Total length, identification, flags, TTL,
                            // protocol 17.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.total_len.val().get_bits::<8>(8))
                                    | (bit_cast::<64, 8>(self.total_len.val().get_bits::<8>(0))
                                        << 8)
                                    | (bit_cast::<64, 8>(self.ident.val().get_bits::<8>(8)) << 16)
                                    | (bit_cast::<64, 8>(self.ident.val().get_bits::<8>(0)) << 24)
                                    | (bit_cast::<64, 8>(self.df_byte.val()) << 32)
                                    | (bit_cast::<64, 8>(self.v_ttl.val()) << 48)
                                    | 0x1100_0000_0000_0000u64;
                        }
                        3 => {
                            // Checksum, src IP, dst IP 0-1.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.csum.q.val().get_bits::<8>(8))
                                    | (bit_cast::<64, 8>(self.csum.q.val().get_bits::<8>(0)) << 8)
                                    | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(24)) << 16)
                                    | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(16)) << 24)
                                    | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(8)) << 32)
                                    | (bit_cast::<64, 8>(self.v_ip.val().get_bits::<8>(0)) << 40)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(24))
                                        << 48)
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(16))
                                        << 56);
                        }
                        4 => {
                            // dst IP 2-3, UDP ports, UDP length.
                            self.out.s_axis.tdata.next =
                                bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(8))
                                    | (bit_cast::<64, 8>(self.dst_ip.q.val().get_bits::<8>(0))
                                        << 8)
                                    | (bit_cast::<64, 8>(self.src_port.q.val().get_bits::<8>(8))
                                        << 16)
                                    | (bit_cast::<64, 8>(self.src_port.q.val().get_bits::<8>(0))
                                        << 24)
                                    | (bit_cast::<64, 8>(self.v_udp.val().get_bits::<8>(8)) << 32)
                                    | (bit_cast::<64, 8>(self.v_udp.val().get_bits::<8>(0)) << 40)
                                    | (bit_cast::<64, 8>(self.udp_len.val().get_bits::<8>(8))
                                        << 48)
                                    | (bit_cast::<64, 8>(self.udp_len.val().get_bits::<8>(0))
                                        << 56);
                        }
                        5 => {
                            // UDP checksum, VXLAN flags 0x08 and 3 zero
                            // bytes, VNI 0-1.
                            self.out.s_axis.tdata.next = 0x08_0000u64
                                | bit_cast::<64, 8>(self.ucsum.q.val().get_bits::<8>(8))
                                | (bit_cast::<64, 8>(self.ucsum.q.val().get_bits::<8>(0)) << 8)
                                | (bit_cast::<64, 8>(self.vni.q.val().get_bits::<8>(16)) << 48)
                                | (bit_cast::<64, 8>(self.vni.q.val().get_bits::<8>(8)) << 56);
                        }
                        _ => {}
                    }
                }
                if self.ready.val() {
                    self.hbeat.d.next = self.hbeat.q.val() + 1;
                    if self.hbeat.q.val() == 5 {
                        // The header's last bytes wait for the payload's first.
                        self.state.d.next = EncapState::Body;
                        if self.vlan.q.val() {
                            // 00 00 VNI 0-2 00.
                            self.tail.d.next =
                                (bit_cast::<48, 8>(self.vni.q.val().get_bits::<8>(16)) << 16)
                                    | (bit_cast::<48, 8>(self.vni.q.val().get_bits::<8>(8)) << 24)
                                    | (bit_cast::<48, 8>(self.vni.q.val().get_bits::<8>(0)) << 32);
                        } else {
                            // VNI 2, 00.
                            self.tail.d.next = bit_cast::<48, 8>(self.vni.q.val().get_bits::<8>(0));
                        }
                    }
                }
            }
            EncapState::Body => {
                // The held S bytes, then the input beat's first 8 - S.
                self.in_ready.next = self.ready.val();
                self.out.s_axis.tvalid.next = self.s_axis.tvalid.val();
                self.out.s_axis.tlast.next = self.s_axis.tlast.val() & self.fits.val();
                if self.vlan.q.val() {
                    self.out.s_axis.tdata.next =
                        bit_cast::<64, 48>(self.tail.q.val()) | (self.s_axis.tdata.val() << 48);
                    if self.s_axis.tlast.val() & self.fits.val() {
                        self.out.s_axis.tkeep.next = (self.s_axis.tkeep.val() << 6) | 63;
                    }
                    if self.take.val() {
                        self.tail.d.next = bit_cast::<48, 64>(self.s_axis.tdata.val() >> 16);
                    }
                } else {
                    self.out.s_axis.tdata.next =
                        bit_cast::<64, 48>(self.tail.q.val()) | (self.s_axis.tdata.val() << 16);
                    if self.s_axis.tlast.val() & self.fits.val() {
                        self.out.s_axis.tkeep.next = (self.s_axis.tkeep.val() << 2) | 3;
                    }
                    if self.take.val() {
                        self.tail.d.next = bit_cast::<48, 64>(self.s_axis.tdata.val() >> 48);
                    }
                }
                if self.take.val() & self.s_axis.tlast.val() {
                    if self.fits.val() {
                        self.state.d.next = EncapState::Start;
                        self.count.d.next = self.count.q.val() + 1;
                    } else {
                        // Its tail needs a beat of its own.
                        self.state.d.next = EncapState::Flush;
                        self.tail_keep.d.next = self.s_axis.tkeep.val() >> 6;
                        if self.vlan.q.val() {
                            self.tail_keep.d.next = self.s_axis.tkeep.val() >> 2;
                        }
                    }
                }
            }
            EncapState::Flush => {
                self.out.s_axis.tvalid.next = true;
                self.out.s_axis.tdata.next = bit_cast::<64, 48>(self.tail.q.val());
                self.out.s_axis.tkeep.next = self.tail_keep.q.val();
                self.out.s_axis.tlast.next = true;
                if self.ready.val() {
                    self.state.d.next = EncapState::Start;
                    self.count.d.next = self.count.q.val() + 1;
                }
            }
        }
        self.s_axis.tready.next = self.in_ready.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulator_is_synthesizable() {
        let mut uut = Encapsulator::default();
        uut.connect_all();
        let vlog = generate_verilog(&uut);
        yosys_validate("encapsulator", &vlog).unwrap();
    }
}
