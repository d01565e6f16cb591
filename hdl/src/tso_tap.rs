//! TSO tap: watches a host frame go into the TX buffer, beside the
//! [`TxChecksumTap`](crate::TxChecksumTap) and with the same ports and the
//! same timing, and works out everything TCP segmentation needs to know
//! about it (`docs/tx-offload.md`, "TCP segmentation") without ever holding
//! the stream up: whether the frame can be segmented (`tso_ok`), the L3
//! length of its largest segment (for the MTU check), the [`TsoInfo`] record
//! the `TsoSegmenter` replays the header from, and one payload sum per
//! segment, pushed into a side FIFO
//! ([`SegmentSumFifo`](crate::SegmentSumFifo)) as the segments go by.
//!
//! Sums are taken 8 lanes a cycle in natural words (bytes `2k, 2k+1`: lanes
//! 0-1, 2-3, 4-5, 6-7 of each beat, the even byte high). `L3` (14 or 18) and
//! `L4 = L3 + 4*IHL` are even, and so is `H = L4 + 4*D`, so the header sums
//! are natural-word sums of the words in their ranges:
//!
//! ```text
//!  sum       | words (natural, by byte position p)
//!  ----------+--------------------------------------------------------------
//!  l2_sum    | p < L3
//!  ip_base   | L3 <= p < L4, p not L3+2 (total length), L3+4 (id), L3+10
//!  tcp_base  | L3+12 <= p < L3+20 (addresses), L4 <= p < H except L4+4,
//!            | L4+6 (sequence number) and L4+16 (checksum); the word at
//!            | L4+12 with its low byte (flags) zeroed; then + 6 (protocol)
//! ```
//!
//! `L3` and the IHL are known by the beat that carries the IPv4 header's
//! first word (beat 1 untagged, 2 tagged), `D` by the beat that carries the
//! word at `L4+12` (lane 2 or 6 of a beat from 5 to 11); both are taken
//! from the beat itself in that beat, so the words after them in the same
//! beat are judged right. The captured fields (total length, id, fragment
//! word, protocol, sequence number, data offset and flags) are the words at
//! their positions, whichever beat they land in.
//!
//! Segment payload sums: segment `k` is `b[H + k*mss .. H + min((k+1)*mss,
//! P)]`. Each beat's payload bytes (lanes at `p >= H`) are split at the next
//! boundary `B = H + k*mss` (`k >= 1`) if it falls in the beat, at lane
//! `j = B - pos`: lanes below `j` finish the current segment, lanes from
//! `j` start the next. Since `mss >= MSS_MIN = 64 > 8` a boundary falls at
//! most once per beat; a beat-aligned boundary has `j = 0`. The sums are in
//! natural words; a segment that starts at an odd position (`k*mss` odd)
//! wants its words counted from its first byte, which is the natural-word
//! sum byte-swapped (RFC 1071), so the swap is done once, when the segment's
//! sum is pushed. A boundary at `len` (P a multiple of `mss`) is never in a
//! beat (its lane would be absent), so no empty segment is ever made.
//!
//! Timing, for a frame whose last beat is taken in cycle t (exactly the
//! `TxChecksumTap`'s): the length is registered at the end of t (stage F;
//! the per-frame registers still hold this frame's values during t+1,
//! since a next frame's first beat only overwrites them at the end of
//! t+1), the checks and the record are registered at the end of t+1, and in
//! cycle t+2 `done` is high with the results, which then hold until the
//! next `done`.
//!
//! Pushes (`sum_push`, `sum_value`), for a frame with `req.tso` set:
//! - a segment ended by a boundary in the beat taken in cycle c is pushed
//!   in cycle c+1 (only with `mss >= 64`);
//! - the last segment is pushed in the `done` cycle t+2, only if the frame
//!   is `tso_ok`.
//!
//! So, as the NIC relies on: (a) nothing is pushed before the frame's 7th
//! beat has been taken: whatever the bytes, `H >= L3 >= 14`, so the first
//! boundary is at `H + mss >= 78`, in the 10th beat or later (a valid
//! frame's at `54 + 64`, beat 15), and a `tso_ok` frame has at least 54
//! bytes, 7 beats; (b) the last push is in the `done` cycle, and the NIC
//! can commit (or roll back) the frame's pushes in that cycle with the
//! FIFO's same-cycle rules; (c) a `tso_ok` frame pushes exactly `segments`
//! sums; any other frame pushes only at boundaries, which are `>= 64` bytes
//! apart from `78` on, so at most `ceil((len - 78) / 64)`, never more than
//! a valid frame of its length could (`max(1, ceil((len - 54) / 64))`), and
//! none at all without `req.tso` or with `mss < 64`; (d) at most one push
//! per cycle, since boundary pushes come from distinct beats and the next
//! frame cannot push before its 10th beat, long after t+2.
//!
//! ```text
//!  cycle    | c   | c+1 | ... | t   | t+1 | t+2
//!  beat     | B   |     |     | L+B |     |         (B: a boundary, L: tlast)
//!  sum_push |     | k-1 |     |     | n-2 | n-1
//!  done     |     |     |     |     |     |  1
//! ```
//!
//! `sum_value` is folded from the push register (two 17-bit adds and the
//! swap after a flip-flop, no path from any input). Per-frame state is
//! restarted by each frame's first beat and the power-up values are all 0,
//! so the block needs no reset input.

use crate::tx_types::{TsoInfo, TxOffloadRequest};
use rust_hdl::prelude::*;

/// The smallest `mss` a TSO request may carry (`docs/tx-offload.md`).
pub const MSS_MIN: u64 = 64;

#[derive(LogicBlock)]
pub struct TsoTap {
    pub clock: Signal<In, Clock>,
    /// The observed stream's data, keep and last (lane 0 = first byte).
    pub tdata: Signal<In, Bits<64>>,
    pub tkeep: Signal<In, Bits<8>>,
    pub tlast: Signal<In, Bit>,
    /// A beat moved on the observed stream this cycle (tvalid & tready).
    pub beat: Signal<In, Bit>,
    /// The frame's request, read with its first beat (`tso` and `mss`).
    pub req: Signal<In, TxOffloadRequest>,
    /// High for one cycle, two cycles after a frame's last beat moved; the
    /// three outputs below then hold that frame's results until the next
    /// `done`.
    pub done: Signal<Out, Bit>,
    /// The frame is a whole, unfragmented TCP/IPv4 packet and `mss >= 64`
    /// (whether or not `tso` is set).
    pub tso_ok: Signal<Out, Bit>,
    /// `4*IHL + 4*D + min(mss, P)` (meaningful when `tso_ok`).
    pub seg_l3_max: Signal<Out, Bits<16>>,
    /// The record; `en = req.tso & tso_ok`, the rest meaningful when `tso_ok`.
    pub info: Signal<Out, TsoInfo>,
    /// One segment's payload sum (see the module docs for when).
    pub sum_push: Signal<Out, Bit>,
    /// Folded, not complemented, in words from the segment's first byte.
    pub sum_value: Signal<Out, Bits<16>>,
    // ---- Per-frame state, updated as beats go by ----
    in_frame: DFF<Bit>,
    /// Byte offset of the next beat (8 x beats so far; 0 between frames).
    pos: DFF<Bits<16>>,
    tso_r: DFF<Bit>,
    mss_r: DFF<Bits<16>>,
    tpid_r: DFF<Bit>,
    etype_r: DFF<Bits<16>>,
    verihl_r: DFF<Bits<8>>,
    totlen_r: DFF<Bits<16>>,
    id_r: DFF<Bits<16>>,
    frag_r: DFF<Bits<16>>,
    /// TTL and protocol (the word at `L3 + 8`).
    ttlproto_r: DFF<Bits<16>>,
    seqhi_r: DFF<Bits<16>>,
    seqlo_r: DFF<Bits<16>>,
    /// Data offset, reserved bits and flags (the word at `L4 + 12`).
    tcpw_r: DFF<Bits<16>>,
    /// `tcpw_r` holds this frame's word.
    dk_r: DFF<Bit>,
    l2acc: DFF<Bits<32>>,
    ipacc: DFF<Bits<32>>,
    tcpacc: DFF<Bits<32>>,
    addracc: DFF<Bits<32>>,
    /// The current segment's sum so far, whether it starts at an odd
    /// position, the next boundary and the boundaries passed.
    sacc: DFF<Bits<32>>,
    sodd: DFF<Bit>,
    nb: DFF<Bits<18>>,
    nbnd: DFF<Bits<16>>,
    // ---- Stage F ----
    f_valid: DFF<Bit>,
    f_len: DFF<Bits<16>>,
    // ---- Output registers ----
    done_r: DFF<Bit>,
    tso_ok_r: DFF<Bit>,
    seg_l3_max_r: DFF<Bits<16>>,
    info_r: DFF<TsoInfo>,
    push_r: DFF<Bit>,
    praw_r: DFF<Bits<32>>,
    podd_r: DFF<Bit>,
    // ---- Locals: the beat ----
    tso_now: Signal<Local, Bit>,
    mss_now: Signal<Local, Bits<16>>,
    kmask: Signal<Local, Bits<64>>,
    nbytes: Signal<Local, Bits<16>>,
    bm: Signal<Local, Bits<64>>,
    swb: Signal<Local, Bits<64>>,
    x0: Signal<Local, Bits<16>>,
    x1: Signal<Local, Bits<16>>,
    x2: Signal<Local, Bits<16>>,
    x3: Signal<Local, Bits<16>>,
    w0: Signal<Local, Bits<32>>,
    w1: Signal<Local, Bits<32>>,
    w2: Signal<Local, Bits<32>>,
    w3: Signal<Local, Bits<32>>,
    p0: Signal<Local, Bits<16>>,
    p1: Signal<Local, Bits<16>>,
    p2: Signal<Local, Bits<16>>,
    p3: Signal<Local, Bits<16>>,
    tpid_now: Signal<Local, Bit>,
    etype_now: Signal<Local, Bits<16>>,
    verihl_now: Signal<Local, Bits<8>>,
    l3_now: Signal<Local, Bits<16>>,
    l4_now: Signal<Local, Bits<16>>,
    tcpw_now: Signal<Local, Bits<16>>,
    dk_now: Signal<Local, Bit>,
    doff4_now: Signal<Local, Bits<16>>,
    h_now: Signal<Local, Bits<16>>,
    i2: Signal<Local, Bits<16>>,
    i4: Signal<Local, Bits<16>>,
    i6: Signal<Local, Bits<16>>,
    i8: Signal<Local, Bits<16>>,
    i10: Signal<Local, Bits<16>>,
    i12: Signal<Local, Bits<16>>,
    i20: Signal<Local, Bits<16>>,
    t4: Signal<Local, Bits<16>>,
    t6: Signal<Local, Bits<16>>,
    t12: Signal<Local, Bits<16>>,
    t16: Signal<Local, Bits<16>>,
    l2s: Signal<Local, Bits<32>>,
    ips: Signal<Local, Bits<32>>,
    tcps: Signal<Local, Bits<32>>,
    addrs: Signal<Local, Bits<32>>,
    // ---- Locals: segments ----
    hlead: Signal<Local, Bits<16>>,
    hmask: Signal<Local, Bits<64>>,
    pos18: Signal<Local, Bits<18>>,
    mss18: Signal<Local, Bits<18>>,
    nb_now: Signal<Local, Bits<18>>,
    ndiff: Signal<Local, Bits<18>>,
    jlane: Signal<Local, Bits<16>>,
    bnd: Signal<Local, Bit>,
    bmask: Signal<Local, Bits<64>>,
    pm: Signal<Local, Bits<64>>,
    lo: Signal<Local, Bits<64>>,
    hi: Signal<Local, Bits<64>>,
    lo_sw: Signal<Local, Bits<64>>,
    hi_sw: Signal<Local, Bits<64>>,
    slo: Signal<Local, Bits<32>>,
    shi: Signal<Local, Bits<32>>,
    sacc_now: Signal<Local, Bits<32>>,
    sodd_now: Signal<Local, Bit>,
    nbnd_now: Signal<Local, Bits<16>>,
    seg_sum: Signal<Local, Bits<32>>,
    // ---- Locals: stage F ----
    vlan: Signal<Local, Bit>,
    l3: Signal<Local, Bits<16>>,
    ihl4: Signal<Local, Bits<16>>,
    l4: Signal<Local, Bits<16>>,
    doff4: Signal<Local, Bits<16>>,
    hl: Signal<Local, Bits<16>>,
    plen: Signal<Local, Bits<16>>,
    minp: Signal<Local, Bits<16>>,
    ip_ok: Signal<Local, Bit>,
    ok: Signal<Local, Bit>,
    a1: Signal<Local, Bits<32>>,
    a2: Signal<Local, Bits<32>>,
    b1: Signal<Local, Bits<32>>,
    b2: Signal<Local, Bits<32>>,
    c0: Signal<Local, Bits<32>>,
    c1: Signal<Local, Bits<32>>,
    c2: Signal<Local, Bits<32>>,
    d1: Signal<Local, Bits<32>>,
    d2: Signal<Local, Bits<32>>,
    ti: Signal<Local, TsoInfo>,
    // ---- Locals: the pushed value ----
    q1: Signal<Local, Bits<32>>,
    q2: Signal<Local, Bits<32>>,
    qv: Signal<Local, Bits<32>>,
    lane_le: [Constant<Bits<64>>; 8],
    ones: Constant<Bits<64>>,
    even_bytes: Constant<Bits<64>>,
    low16: Constant<Bits<32>>,
    low8: Constant<Bits<32>>,
    high8: Constant<Bits<32>>,
    frag_mask: Constant<Bits<16>>,
    mss_min: Constant<Bits<16>>,
    tpid: Constant<Bits<16>>,
    ethertype_ipv4: Constant<Bits<16>>,
}

impl Default for TsoTap {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            tdata: Default::default(),
            tkeep: Default::default(),
            tlast: Default::default(),
            beat: Default::default(),
            req: Default::default(),
            done: Default::default(),
            tso_ok: Default::default(),
            seg_l3_max: Default::default(),
            info: Default::default(),
            sum_push: Default::default(),
            sum_value: Default::default(),
            in_frame: Default::default(),
            pos: Default::default(),
            tso_r: Default::default(),
            mss_r: Default::default(),
            tpid_r: Default::default(),
            etype_r: Default::default(),
            verihl_r: Default::default(),
            totlen_r: Default::default(),
            id_r: Default::default(),
            frag_r: Default::default(),
            ttlproto_r: Default::default(),
            seqhi_r: Default::default(),
            seqlo_r: Default::default(),
            tcpw_r: Default::default(),
            dk_r: Default::default(),
            l2acc: Default::default(),
            ipacc: Default::default(),
            tcpacc: Default::default(),
            addracc: Default::default(),
            sacc: Default::default(),
            sodd: Default::default(),
            nb: Default::default(),
            nbnd: Default::default(),
            f_valid: Default::default(),
            f_len: Default::default(),
            done_r: Default::default(),
            tso_ok_r: Default::default(),
            seg_l3_max_r: Default::default(),
            info_r: Default::default(),
            push_r: Default::default(),
            praw_r: Default::default(),
            podd_r: Default::default(),
            tso_now: Default::default(),
            mss_now: Default::default(),
            kmask: Default::default(),
            nbytes: Default::default(),
            bm: Default::default(),
            swb: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            w0: Default::default(),
            w1: Default::default(),
            w2: Default::default(),
            w3: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            tpid_now: Default::default(),
            etype_now: Default::default(),
            verihl_now: Default::default(),
            l3_now: Default::default(),
            l4_now: Default::default(),
            tcpw_now: Default::default(),
            dk_now: Default::default(),
            doff4_now: Default::default(),
            h_now: Default::default(),
            i2: Default::default(),
            i4: Default::default(),
            i6: Default::default(),
            i8: Default::default(),
            i10: Default::default(),
            i12: Default::default(),
            i20: Default::default(),
            t4: Default::default(),
            t6: Default::default(),
            t12: Default::default(),
            t16: Default::default(),
            l2s: Default::default(),
            ips: Default::default(),
            tcps: Default::default(),
            addrs: Default::default(),
            hlead: Default::default(),
            hmask: Default::default(),
            pos18: Default::default(),
            mss18: Default::default(),
            nb_now: Default::default(),
            ndiff: Default::default(),
            jlane: Default::default(),
            bnd: Default::default(),
            bmask: Default::default(),
            pm: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            lo_sw: Default::default(),
            hi_sw: Default::default(),
            slo: Default::default(),
            shi: Default::default(),
            sacc_now: Default::default(),
            sodd_now: Default::default(),
            nbnd_now: Default::default(),
            seg_sum: Default::default(),
            vlan: Default::default(),
            l3: Default::default(),
            ihl4: Default::default(),
            l4: Default::default(),
            doff4: Default::default(),
            hl: Default::default(),
            plen: Default::default(),
            minp: Default::default(),
            ip_ok: Default::default(),
            ok: Default::default(),
            a1: Default::default(),
            a2: Default::default(),
            b1: Default::default(),
            b2: Default::default(),
            c0: Default::default(),
            c1: Default::default(),
            c2: Default::default(),
            d1: Default::default(),
            d2: Default::default(),
            ti: Default::default(),
            q1: Default::default(),
            q2: Default::default(),
            qv: Default::default(),
            lane_le: std::array::from_fn(|i| Constant::new((0xffu64 << (8 * i)).to_bits())),
            ones: Constant::new(u64::MAX.to_bits()),
            even_bytes: Constant::new(0x00ff_00ff_00ff_00ffu64.to_bits()),
            low16: Constant::new(0xffffu64.to_bits()),
            low8: Constant::new(0xffu64.to_bits()),
            high8: Constant::new(0xff00u64.to_bits()),
            frag_mask: Constant::new(0x3fffu64.to_bits()),
            mss_min: Constant::new(MSS_MIN.to_bits()),
            tpid: Constant::new(0x8100u64.to_bits()),
            ethertype_ipv4: Constant::new(0x0800u64.to_bits()),
        }
    }
}

impl TsoTap {
    /// The tap (it has no build parameters; `MSS_MIN` is a constant).
    pub fn new() -> Self {
        Self::default()
    }
}

impl Logic for TsoTap {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            in_frame,
            pos,
            tso_r,
            mss_r,
            tpid_r,
            etype_r,
            verihl_r,
            totlen_r,
            id_r,
            frag_r,
            ttlproto_r,
            seqhi_r,
            seqlo_r,
            tcpw_r,
            dk_r,
            l2acc,
            ipacc,
            tcpacc,
            addracc,
            sacc,
            sodd,
            nb,
            nbnd,
            f_valid,
            f_len,
            done_r,
            tso_ok_r,
            seg_l3_max_r,
            info_r,
            push_r,
            praw_r,
            podd_r
        );
        self.done.next = self.done_r.q.val();
        self.tso_ok.next = self.tso_ok_r.q.val();
        self.seg_l3_max.next = self.seg_l3_max_r.q.val();
        self.info.next = self.info_r.q.val();
        self.sum_push.next = self.push_r.q.val();
        // The pushed value, folded and swapped after the flip-flops.
        self.q1.next = (self.praw_r.q.val() & self.low16.val()) + (self.praw_r.q.val() >> 16);
        self.q2.next = (self.q1.val() & self.low16.val()) + (self.q1.val() >> 16);
        self.qv.next = self.q2.val();
        if self.podd_r.q.val() {
            self.qv.next = ((self.q2.val() & self.low8.val()) << 8) | (self.q2.val() >> 8);
        }
        self.sum_value.next = bit_cast::<16, 32>(self.qv.val());

        // ---- The request: from the port on the first beat, then held ----
        self.tso_now.next = self.tso_r.q.val();
        self.mss_now.next = self.mss_r.q.val();
        if !self.in_frame.q.val() {
            self.tso_now.next = self.req.val().tso;
            self.mss_now.next = self.req.val().mss;
        }

        // ---- The beat, absent bytes zeroed, as natural words ----
        self.kmask.next = 0.into();
        self.nbytes.next = 0.into();
        if self.tkeep.val().get_bit(0) {
            self.kmask.next = self.kmask.val() | self.lane_le[0].val();
            self.nbytes.next = 1.into();
        }
        if self.tkeep.val().get_bit(1) {
            self.kmask.next = self.kmask.val() | self.lane_le[1].val();
            self.nbytes.next = 2.into();
        }
        if self.tkeep.val().get_bit(2) {
            self.kmask.next = self.kmask.val() | self.lane_le[2].val();
            self.nbytes.next = 3.into();
        }
        if self.tkeep.val().get_bit(3) {
            self.kmask.next = self.kmask.val() | self.lane_le[3].val();
            self.nbytes.next = 4.into();
        }
        if self.tkeep.val().get_bit(4) {
            self.kmask.next = self.kmask.val() | self.lane_le[4].val();
            self.nbytes.next = 5.into();
        }
        if self.tkeep.val().get_bit(5) {
            self.kmask.next = self.kmask.val() | self.lane_le[5].val();
            self.nbytes.next = 6.into();
        }
        if self.tkeep.val().get_bit(6) {
            self.kmask.next = self.kmask.val() | self.lane_le[6].val();
            self.nbytes.next = 7.into();
        }
        if self.tkeep.val().get_bit(7) {
            self.kmask.next = self.kmask.val() | self.lane_le[7].val();
            self.nbytes.next = 8.into();
        }
        self.bm.next = self.tdata.val() & self.kmask.val();
        // Bytes swapped within each lane pair: 16-bit field i is word i.
        self.swb.next = ((self.bm.val() & self.even_bytes.val()) << 8)
            | ((self.bm.val() >> 8) & self.even_bytes.val());
        self.x0.next = self.swb.val().get_bits::<16>(0);
        self.x1.next = self.swb.val().get_bits::<16>(16);
        self.x2.next = self.swb.val().get_bits::<16>(32);
        self.x3.next = self.swb.val().get_bits::<16>(48);
        self.w0.next = bit_cast::<32, 16>(self.x0.val());
        self.w1.next = bit_cast::<32, 16>(self.x1.val());
        self.w2.next = bit_cast::<32, 16>(self.x2.val());
        self.w3.next = bit_cast::<32, 16>(self.x3.val());
        self.p0.next = self.pos.q.val();
        self.p1.next = self.pos.q.val() + 2;
        self.p2.next = self.pos.q.val() + 4;
        self.p3.next = self.pos.q.val() + 6;

        // ---- L3, IHL, D as they become known (as in the checksum tap) ----
        self.tpid_now.next = self.tpid_r.q.val() & self.in_frame.q.val();
        self.etype_now.next = self.etype_r.q.val();
        self.verihl_now.next = self.verihl_r.q.val();
        if !self.in_frame.q.val() {
            self.etype_now.next = 0.into();
            self.verihl_now.next = 0.into();
        }
        if self.pos.q.val() == 8 {
            self.tpid_now.next = self.x2.val() == self.tpid.val();
            self.etype_now.next = self.x2.val();
            if !self.tpid_now.val() {
                self.verihl_now.next = self.bm.val().get_bits::<8>(48);
            }
        }
        if (self.pos.q.val() == 16) & self.tpid_now.val() {
            self.etype_now.next = self.x0.val();
            self.verihl_now.next = self.bm.val().get_bits::<8>(16);
        }
        self.l3_now.next = 14.into();
        if self.tpid_now.val() {
            self.l3_now.next = 18.into();
        }
        self.l4_now.next =
            self.l3_now.val() + (bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_now.val())) << 2);
        self.i2.next = self.l3_now.val() + 2;
        self.i4.next = self.l3_now.val() + 4;
        self.i6.next = self.l3_now.val() + 6;
        self.i8.next = self.l3_now.val() + 8;
        self.i10.next = self.l3_now.val() + 10;
        self.i12.next = self.l3_now.val() + 12;
        self.i20.next = self.l3_now.val() + 20;
        self.t4.next = self.l4_now.val() + 4;
        self.t6.next = self.l4_now.val() + 6;
        self.t12.next = self.l4_now.val() + 12;
        self.t16.next = self.l4_now.val() + 16;
        // D: from the beat that carries L4 + 12, registered after it; until
        // then taken as 15 (H = L4 + 60), which no earlier byte reaches.
        self.tcpw_now.next = self.tcpw_r.q.val();
        self.dk_now.next = self.dk_r.q.val() & self.in_frame.q.val();
        if self.p0.val() == self.t12.val() {
            self.tcpw_now.next = self.x0.val();
            self.dk_now.next = true;
        }
        if self.p1.val() == self.t12.val() {
            self.tcpw_now.next = self.x1.val();
            self.dk_now.next = true;
        }
        if self.p2.val() == self.t12.val() {
            self.tcpw_now.next = self.x2.val();
            self.dk_now.next = true;
        }
        if self.p3.val() == self.t12.val() {
            self.tcpw_now.next = self.x3.val();
            self.dk_now.next = true;
        }
        self.doff4_now.next = 60.into();
        if self.dk_now.val() {
            self.doff4_now.next = (self.tcpw_now.val() >> 12) << 2;
        }
        self.h_now.next = self.l4_now.val() + self.doff4_now.val();

        // ---- Header sums, word by word ----
        self.l2s.next = 0.into();
        self.ips.next = 0.into();
        self.tcps.next = 0.into();
        self.addrs.next = 0.into();
        if self.p0.val() < self.l3_now.val() {
            self.l2s.next = self.l2s.val() + self.w0.val();
        }
        if self.p1.val() < self.l3_now.val() {
            self.l2s.next = self.l2s.val() + self.w1.val();
        }
        if self.p2.val() < self.l3_now.val() {
            self.l2s.next = self.l2s.val() + self.w2.val();
        }
        if self.p3.val() < self.l3_now.val() {
            self.l2s.next = self.l2s.val() + self.w3.val();
        }
        if (self.p0.val() >= self.l3_now.val())
            & (self.p0.val() < self.l4_now.val())
            & (self.p0.val() != self.i2.val())
            & (self.p0.val() != self.i4.val())
            & (self.p0.val() != self.i10.val())
        {
            self.ips.next = self.ips.val() + self.w0.val();
        }
        if (self.p1.val() >= self.l3_now.val())
            & (self.p1.val() < self.l4_now.val())
            & (self.p1.val() != self.i2.val())
            & (self.p1.val() != self.i4.val())
            & (self.p1.val() != self.i10.val())
        {
            self.ips.next = self.ips.val() + self.w1.val();
        }
        if (self.p2.val() >= self.l3_now.val())
            & (self.p2.val() < self.l4_now.val())
            & (self.p2.val() != self.i2.val())
            & (self.p2.val() != self.i4.val())
            & (self.p2.val() != self.i10.val())
        {
            self.ips.next = self.ips.val() + self.w2.val();
        }
        if (self.p3.val() >= self.l3_now.val())
            & (self.p3.val() < self.l4_now.val())
            & (self.p3.val() != self.i2.val())
            & (self.p3.val() != self.i4.val())
            & (self.p3.val() != self.i10.val())
        {
            self.ips.next = self.ips.val() + self.w3.val();
        }
        // Pseudo-header addresses.
        if (self.p0.val() >= self.i12.val()) & (self.p0.val() < self.i20.val()) {
            self.tcps.next = self.tcps.val() + self.w0.val();
            self.addrs.next = self.addrs.val() + self.w0.val();
        }
        if (self.p1.val() >= self.i12.val()) & (self.p1.val() < self.i20.val()) {
            self.tcps.next = self.tcps.val() + self.w1.val();
            self.addrs.next = self.addrs.val() + self.w1.val();
        }
        if (self.p2.val() >= self.i12.val()) & (self.p2.val() < self.i20.val()) {
            self.tcps.next = self.tcps.val() + self.w2.val();
            self.addrs.next = self.addrs.val() + self.w2.val();
        }
        if (self.p3.val() >= self.i12.val()) & (self.p3.val() < self.i20.val()) {
            self.tcps.next = self.tcps.val() + self.w3.val();
            self.addrs.next = self.addrs.val() + self.w3.val();
        }
        // The TCP header but sequence number and checksum; flags as 0.
        if (self.p0.val() >= self.l4_now.val())
            & (self.p0.val() < self.h_now.val())
            & (self.p0.val() != self.t4.val())
            & (self.p0.val() != self.t6.val())
            & (self.p0.val() != self.t16.val())
        {
            if self.p0.val() == self.t12.val() {
                self.tcps.next = self.tcps.val() + (self.w0.val() & self.high8.val());
            } else {
                self.tcps.next = self.tcps.val() + self.w0.val();
            }
        }
        if (self.p1.val() >= self.l4_now.val())
            & (self.p1.val() < self.h_now.val())
            & (self.p1.val() != self.t4.val())
            & (self.p1.val() != self.t6.val())
            & (self.p1.val() != self.t16.val())
        {
            if self.p1.val() == self.t12.val() {
                self.tcps.next = self.tcps.val() + (self.w1.val() & self.high8.val());
            } else {
                self.tcps.next = self.tcps.val() + self.w1.val();
            }
        }
        if (self.p2.val() >= self.l4_now.val())
            & (self.p2.val() < self.h_now.val())
            & (self.p2.val() != self.t4.val())
            & (self.p2.val() != self.t6.val())
            & (self.p2.val() != self.t16.val())
        {
            if self.p2.val() == self.t12.val() {
                self.tcps.next = self.tcps.val() + (self.w2.val() & self.high8.val());
            } else {
                self.tcps.next = self.tcps.val() + self.w2.val();
            }
        }
        if (self.p3.val() >= self.l4_now.val())
            & (self.p3.val() < self.h_now.val())
            & (self.p3.val() != self.t4.val())
            & (self.p3.val() != self.t6.val())
            & (self.p3.val() != self.t16.val())
        {
            if self.p3.val() == self.t12.val() {
                self.tcps.next = self.tcps.val() + (self.w3.val() & self.high8.val());
            } else {
                self.tcps.next = self.tcps.val() + self.w3.val();
            }
        }

        // ---- Segments: payload lanes (p >= H), split at the next boundary ----
        self.hlead.next = self.h_now.val() - self.pos.q.val();
        self.hmask.next = self.ones.val();
        if self.h_now.val() > self.pos.q.val() {
            self.hmask.next = 0.into();
            if self.hlead.val() < 8 {
                self.hmask.next = self.ones.val() << (self.hlead.val() << 3);
            }
        }
        self.pos18.next = bit_cast::<18, 16>(self.pos.q.val());
        self.mss18.next = bit_cast::<18, 16>(self.mss_now.val());
        // The first boundary is H + mss, set once D is known; then each
        // boundary passed moves it on by mss.
        self.nb_now.next = bit_cast::<18, 16>(self.h_now.val()) + self.mss18.val();
        if self.dk_r.q.val() & self.in_frame.q.val() {
            self.nb_now.next = self.nb.q.val();
        }
        self.ndiff.next = self.nb_now.val() - self.pos18.val();
        self.jlane.next = bit_cast::<16, 18>(self.ndiff.val());
        // In this beat, at a lane that is there (a boundary at len is not).
        self.bnd.next = (self.mss_now.val() >= self.mss_min.val())
            & (self.nb_now.val() >= self.pos18.val())
            & (self.ndiff.val() < 8)
            & (self.jlane.val() < self.nbytes.val());
        self.bmask.next = 0.into();
        if self.bnd.val() {
            self.bmask.next = self.ones.val() << (self.jlane.val() << 3);
        }
        self.pm.next = self.bm.val() & self.hmask.val();
        self.lo.next = self.pm.val() & !self.bmask.val();
        self.hi.next = self.pm.val() & self.bmask.val();
        // Word sums with the bytes swapped in pairs (as `swb`): 16-bit
        // field i is natural word i.
        self.lo_sw.next = ((self.lo.val() & self.even_bytes.val()) << 8)
            | ((self.lo.val() >> 8) & self.even_bytes.val());
        self.hi_sw.next = ((self.hi.val() & self.even_bytes.val()) << 8)
            | ((self.hi.val() >> 8) & self.even_bytes.val());
        self.slo.next = bit_cast::<32, 16>(self.lo_sw.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.lo_sw.val().get_bits::<16>(16))
            + bit_cast::<32, 16>(self.lo_sw.val().get_bits::<16>(32))
            + bit_cast::<32, 16>(self.lo_sw.val().get_bits::<16>(48));
        self.shi.next = bit_cast::<32, 16>(self.hi_sw.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.hi_sw.val().get_bits::<16>(16))
            + bit_cast::<32, 16>(self.hi_sw.val().get_bits::<16>(32))
            + bit_cast::<32, 16>(self.hi_sw.val().get_bits::<16>(48));
        self.sacc_now.next = self.sacc.q.val();
        self.sodd_now.next = self.sodd.q.val();
        self.nbnd_now.next = self.nbnd.q.val();
        if !self.in_frame.q.val() {
            self.sacc_now.next = 0.into();
            self.sodd_now.next = false;
            self.nbnd_now.next = 0.into();
        }
        self.seg_sum.next = self.sacc_now.val() + self.slo.val();

        // ---- Taking the beat ----
        self.f_valid.d.next = false;
        self.push_r.d.next = false;
        if self.beat.val() {
            self.in_frame.d.next = !self.tlast.val();
            self.pos.d.next = self.pos.q.val() + 8;
            self.tso_r.d.next = self.tso_now.val();
            self.mss_r.d.next = self.mss_now.val();
            self.tpid_r.d.next = self.tpid_now.val();
            self.etype_r.d.next = self.etype_now.val();
            self.verihl_r.d.next = self.verihl_now.val();
            self.tcpw_r.d.next = self.tcpw_now.val();
            self.dk_r.d.next = self.dk_now.val();
            self.l2acc.d.next = self.l2acc.q.val() + self.l2s.val();
            self.ipacc.d.next = self.ipacc.q.val() + self.ips.val();
            self.tcpacc.d.next = self.tcpacc.q.val() + self.tcps.val();
            self.addracc.d.next = self.addracc.q.val() + self.addrs.val();
            if !self.in_frame.q.val() {
                self.addracc.d.next = self.addrs.val();
                self.l2acc.d.next = self.l2s.val();
                self.ipacc.d.next = self.ips.val();
                self.tcpacc.d.next = self.tcps.val();
            }
            // Header fields: the words at their positions.
            if self.p0.val() == self.i2.val() {
                self.totlen_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.i2.val() {
                self.totlen_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.i2.val() {
                self.totlen_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.i2.val() {
                self.totlen_r.d.next = self.x3.val();
            }
            if self.p0.val() == self.i4.val() {
                self.id_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.i4.val() {
                self.id_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.i4.val() {
                self.id_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.i4.val() {
                self.id_r.d.next = self.x3.val();
            }
            if self.p0.val() == self.i6.val() {
                self.frag_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.i6.val() {
                self.frag_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.i6.val() {
                self.frag_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.i6.val() {
                self.frag_r.d.next = self.x3.val();
            }
            if self.p0.val() == self.i8.val() {
                self.ttlproto_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.i8.val() {
                self.ttlproto_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.i8.val() {
                self.ttlproto_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.i8.val() {
                self.ttlproto_r.d.next = self.x3.val();
            }
            if self.p0.val() == self.t4.val() {
                self.seqhi_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.t4.val() {
                self.seqhi_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.t4.val() {
                self.seqhi_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.t4.val() {
                self.seqhi_r.d.next = self.x3.val();
            }
            if self.p0.val() == self.t6.val() {
                self.seqlo_r.d.next = self.x0.val();
            }
            if self.p1.val() == self.t6.val() {
                self.seqlo_r.d.next = self.x1.val();
            }
            if self.p2.val() == self.t6.val() {
                self.seqlo_r.d.next = self.x2.val();
            }
            if self.p3.val() == self.t6.val() {
                self.seqlo_r.d.next = self.x3.val();
            }
            self.nb.d.next = self.nb_now.val();
            self.sacc.d.next = self.seg_sum.val();
            self.sodd.d.next = self.sodd_now.val();
            self.nbnd.d.next = self.nbnd_now.val();
            if self.bnd.val() {
                self.nb.d.next = self.nb_now.val() + self.mss18.val();
                self.sacc.d.next = self.shi.val();
                self.sodd.d.next = self.nb_now.val().get_bit(0);
                self.nbnd.d.next = self.nbnd_now.val() + 1;
                if self.tso_now.val() {
                    self.push_r.d.next = true;
                    self.praw_r.d.next = self.seg_sum.val();
                    self.podd_r.d.next = self.sodd_now.val();
                }
            }
            if self.tlast.val() {
                self.pos.d.next = 0.into();
                self.f_valid.d.next = true;
                self.f_len.d.next = self.pos.q.val() + self.nbytes.val();
            }
        }

        // ---- Stage F: the checks and the record ----
        self.vlan.next = self.tpid_r.q.val() & (self.f_len.q.val() >= 18);
        self.l3.next = 14.into();
        if self.vlan.val() {
            self.l3.next = 18.into();
        }
        self.ihl4.next = bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_r.q.val())) << 2;
        self.l4.next = self.l3.val() + self.ihl4.val();
        self.doff4.next = (self.tcpw_r.q.val() >> 12) << 2;
        self.hl.next = self.l4.val() + self.doff4.val();
        self.plen.next = self.f_len.q.val() - self.hl.val();
        self.minp.next = self.plen.val();
        if self.mss_r.q.val() < self.plen.val() {
            self.minp.next = self.mss_r.q.val();
        }
        self.ip_ok.next = (self.etype_r.q.val() == self.ethertype_ipv4.val())
            & ((self.verihl_r.q.val() >> 4) == 4)
            & (self.ihl4.val() >= 20)
            & (self.f_len.q.val() >= self.l3.val() + 20)
            & (self.f_len.q.val() >= self.l4.val());
        self.ok.next = self.ip_ok.val()
            & (bit_cast::<8, 16>(self.ttlproto_r.q.val()) == 6)
            & ((self.frag_r.q.val() & self.frag_mask.val()) == 0)
            & (self.f_len.q.val() >= self.l4.val() + 20)
            & (self.doff4.val() >= 20)
            & (self.f_len.q.val() >= self.hl.val())
            & (self.totlen_r.q.val() == self.f_len.q.val() - self.l3.val())
            & (self.mss_r.q.val() >= self.mss_min.val());
        self.a1.next = (self.l2acc.q.val() & self.low16.val()) + (self.l2acc.q.val() >> 16);
        self.a2.next = (self.a1.val() & self.low16.val()) + (self.a1.val() >> 16);
        self.b1.next = (self.ipacc.q.val() & self.low16.val()) + (self.ipacc.q.val() >> 16);
        self.b2.next = (self.b1.val() & self.low16.val()) + (self.b1.val() >> 16);
        self.c0.next = self.tcpacc.q.val() + 6;
        self.c1.next = (self.c0.val() & self.low16.val()) + (self.c0.val() >> 16);
        self.c2.next = (self.c1.val() & self.low16.val()) + (self.c1.val() >> 16);
        self.d1.next = (self.addracc.q.val() & self.low16.val()) + (self.addracc.q.val() >> 16);
        self.d2.next = (self.d1.val() & self.low16.val()) + (self.d1.val() >> 16);
        self.ti.next.en = self.tso_r.q.val() & self.ok.val();
        self.ti.next.mss = self.mss_r.q.val();
        self.ti.next.l3 = bit_cast::<8, 16>(self.l3.val());
        self.ti.next.l4 = bit_cast::<8, 16>(self.l4.val());
        self.ti.next.hdr_len = bit_cast::<8, 16>(self.hl.val());
        self.ti.next.payload_len = self.plen.val();
        self.ti.next.segments = self.nbnd.q.val() + 1;
        self.ti.next.ip_id = self.id_r.q.val();
        self.ti.next.seq = (bit_cast::<32, 16>(self.seqhi_r.q.val()) << 16)
            | bit_cast::<32, 16>(self.seqlo_r.q.val());
        self.ti.next.flags = bit_cast::<8, 16>(self.tcpw_r.q.val());
        self.ti.next.l2_sum = bit_cast::<16, 32>(self.a2.val());
        self.ti.next.ip_base = bit_cast::<16, 32>(self.b2.val());
        self.ti.next.tcp_base = bit_cast::<16, 32>(self.c2.val());
        self.ti.next.addr_sum = bit_cast::<16, 32>(self.d2.val());
        self.done_r.d.next = self.f_valid.q.val();
        if self.f_valid.q.val() {
            self.tso_ok_r.d.next = self.ok.val();
            self.seg_l3_max_r.d.next = self.ihl4.val() + self.doff4.val() + self.minp.val();
            self.info_r.d.next = self.ti.val();
            // The last segment, in the done cycle (a valid frame is at
            // least 7 beats long, so no next frame can push at t+1).
            if self.tso_r.q.val() & self.ok.val() {
                self.push_r.d.next = true;
                self.praw_r.d.next = self.sacc.q.val();
                self.podd_r.d.next = self.sodd.q.val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tso_tap_is_synthesizable() {
        let mut uut = TsoTap::default();
        uut.connect_all();
        yosys_validate("tso_tap", &generate_verilog(&uut)).unwrap();
    }
}
