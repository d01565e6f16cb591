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
//! Which sum each word goes to is worked out a beat ahead: while a beat
//! moves, the masks for the next one are computed from what is known after
//! it and registered, so a beat's own cycle only masks its words, sums the
//! four as a tree and accumulates (the ECP5's slowest path was a same-beat
//! field through a compare into four chained adds: 34 MHz). That is exact
//! for every frame whose results count, because of where a valid frame's
//! fields fall:
//! - `L3` (the tag, in beat 1) steers beat 2 on; in beat 1 itself only word
//!   14 depends on it, and that word is held and added with beat 2, in a
//!   slot beat 2 leaves empty;
//! - the IHL (beat 1 untagged, 2 tagged) is used two beats later: with
//!   `IHL >= 5` no L4-relative word is nearer, and until then every word
//!   from `L3` on counts as IPv4 header;
//! - `D` (the word at `L4 + 12`, a beat from 5 to 11) sets `H` for the next
//!   beat on; with `D >= 5` the rest of its own beat is TCP header.
//!
//! A frame that breaks these is not `tso_ok`: with `IHL < 5` the IHL check
//! fails (the IHL, like every L3-relative field, is captured exactly for
//! every frame); with `IHL >= 5` the L4-relative fields are exact too, so
//! with `D < 5` the D check fails. Such a frame's sums may differ from a
//! same-beat reading; nothing uses them. The
//! captured fields (total length, id, fragment word, protocol, sequence
//! number, data offset and flags) are the words at their positions,
//! whichever beat they land in.
//!
//! Segment payload sums: segment `k` is `b[H + k*mss .. H + min((k+1)*mss,
//! P)]`. Each beat's payload bytes (lanes at `p >= H`) are split at the next
//! boundary `B = H + k*mss` (`k >= 1`) if it falls in the beat, at lane
//! `j = B - pos`: lanes below `j` finish the current segment, lanes from
//! `j` start the next. The next boundary is kept relative to `pos`, set from
//! `H + mss` in the beat after D's (at least 52 bytes before it) and moved
//! on by 8 a beat and `mss` a boundary, so the lane masks for the next beat
//! are known a beat ahead too. Since `mss >= MSS_MIN = 64 > 8` a boundary
//! falls at most once per beat; a beat-aligned boundary has `j = 0`. The sums are in
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
    /// `pos >= 256`: past every header byte.
    far: DFF<Bit>,
    tso_r: DFF<Bit>,
    mss_r: DFF<Bits<16>>,
    /// `mss_r >= MSS_MIN`.
    mss_ok_r: DFF<Bit>,
    /// `mss_r - 8`, as wide as `rel`.
    mss8_r: DFF<Bits<18>>,
    tpid_r: DFF<Bit>,
    etype_r: DFF<Bits<16>>,
    verihl_r: DFF<Bits<8>>,
    /// `verihl_r` holds this frame's byte.
    vk_r: DFF<Bit>,
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
    /// L3, L4 (`L3 + 4*IHL`, from the IHL seen so far) and H (`L4 + 4*D`,
    /// meaningful once `dk_r`).
    l3_r: DFF<Bits<8>>,
    l4_r: DFF<Bits<8>>,
    h_r: DFF<Bits<8>>,
    /// `l4_r` less the next beat's position (low byte), signed, registered
    /// with it: H's distance from the next beat is this plus `4*D`, one
    /// adder before the payload mask's compare, not two.
    l4_rel: DFF<Bits<9>>,
    /// `L4 + 4`, `+ 6`, `+ 12`, `+ 16` (as `l4_r`).
    t4_r: DFF<Bits<8>>,
    t6_r: DFF<Bits<8>>,
    t12_r: DFF<Bits<8>>,
    t16_r: DFF<Bits<8>>,
    /// L4 as this beat makes it.
    l4_now: Signal<Local, Bits<8>>,
    l2acc: DFF<Bits<32>>,
    ipacc: DFF<Bits<32>>,
    /// Starts at 6 (the pseudo-header's protocol).
    tcpacc: DFF<Bits<32>>,
    addracc: DFF<Bits<32>>,
    /// The current segment's sum so far, whether it starts at an odd
    /// position and the boundaries passed.
    sacc: DFF<Bits<32>>,
    sodd: DFF<Bit>,
    nbnd: DFF<Bits<16>>,
    /// The next boundary less `pos`, once `nbv`.
    rel: DFF<Bits<18>>,
    nbv: DFF<Bit>,
    // ---- The next beat's masks, worked out while the beat before moved ----
    /// Natural-word masks (as `swb`) of the words each header sum takes.
    m_l2: DFF<Bits<64>>,
    m_ip: DFF<Bits<64>>,
    m_tcp: DFF<Bits<64>>,
    m_addr: DFF<Bits<64>>,
    /// The words captured (bit i: word i is the field).
    c_tl: DFF<Bits<4>>,
    c_id: DFF<Bits<4>>,
    c_frag: DFF<Bits<4>>,
    c_ttl: DFF<Bits<4>>,
    c_seqhi: DFF<Bits<4>>,
    c_seqlo: DFF<Bits<4>>,
    c_tcpw: DFF<Bits<4>>,
    /// Word 14, and where it goes (see the header sums).
    w14_r: DFF<Bits<16>>,
    w14_l2: DFF<Bit>,
    w14_ip: DFF<Bit>,
    /// The beat is the second (`pos == 8`) or the third (`pos == 16`).
    at8: DFF<Bit>,
    at16: DFF<Bit>,
    /// Byte masks (as `tdata`) of the payload lanes and of the lanes from a
    /// boundary on; the boundary's lane alone, as a `tkeep` bit.
    m_pay: DFF<Bits<64>>,
    m_bnd: DFF<Bits<64>>,
    bnd_lane: DFF<Bits<8>>,
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
    /// The beat as it came (absent bytes not zeroed), as natural words:
    /// where a field's bytes must be present for the frame's results to
    /// count anyway, reading them from here keeps `tkeep` off the path.
    swr: Signal<Local, Bits<64>>,
    x0: Signal<Local, Bits<16>>,
    x1: Signal<Local, Bits<16>>,
    x2: Signal<Local, Bits<16>>,
    x3: Signal<Local, Bits<16>>,
    tp8: Signal<Local, Bit>,
    /// The beat's words 0 and 2 as they came (the type / TPID fields).
    rw0: Signal<Local, Bits<16>>,
    rw2: Signal<Local, Bits<16>>,
    ml2: Signal<Local, Bits<64>>,
    mip: Signal<Local, Bits<64>>,
    l2s: Signal<Local, Bits<32>>,
    ips: Signal<Local, Bits<32>>,
    tcps: Signal<Local, Bits<32>>,
    addrs: Signal<Local, Bits<32>>,
    tpid_now: Signal<Local, Bit>,
    etype_now: Signal<Local, Bits<16>>,
    verihl_now: Signal<Local, Bits<8>>,
    vk_now: Signal<Local, Bit>,
    tcpw_now: Signal<Local, Bits<16>>,
    dk_now: Signal<Local, Bit>,
    // ---- Locals: segments ----
    bnd: Signal<Local, Bit>,
    lo: Signal<Local, Bits<64>>,
    hi: Signal<Local, Bits<64>>,
    slo: Signal<Local, Bits<32>>,
    shi: Signal<Local, Bits<32>>,
    sacc_now: Signal<Local, Bits<32>>,
    nbnd_now: Signal<Local, Bits<16>>,
    seg_sum: Signal<Local, Bits<32>>,
    // ---- Locals: the next beat ----
    npos: Signal<Local, Bits<8>>,
    nfar: Signal<Local, Bit>,
    q0: Signal<Local, Bits<8>>,
    q1: Signal<Local, Bits<8>>,
    q2: Signal<Local, Bits<8>>,
    q3: Signal<Local, Bits<8>>,
    l3_a: Signal<Local, Bits<8>>,
    vk_p: Signal<Local, Bit>,
    l4_p: Signal<Local, Bits<8>>,
    h_a: Signal<Local, Bits<8>>,
    i2: Signal<Local, Bits<8>>,
    i4: Signal<Local, Bits<8>>,
    i6: Signal<Local, Bits<8>>,
    i8: Signal<Local, Bits<8>>,
    i10: Signal<Local, Bits<8>>,
    i12: Signal<Local, Bits<8>>,
    i20: Signal<Local, Bits<8>>,
    t4: Signal<Local, Bits<8>>,
    t6: Signal<Local, Bits<8>>,
    t12: Signal<Local, Bits<8>>,
    t16: Signal<Local, Bits<8>>,
    hlead: Signal<Local, Bits<9>>,
    rel_n: Signal<Local, Bits<18>>,
    nbv_n: Signal<Local, Bit>,
    bin_n: Signal<Local, Bit>,
    jl_n: Signal<Local, Bits<8>>,
    sodd_now: Signal<Local, Bit>,
    v_l2: Signal<Local, Bits<64>>,
    v_ip: Signal<Local, Bits<64>>,
    v_tcp: Signal<Local, Bits<64>>,
    v_addr: Signal<Local, Bits<64>>,
    n_l2: Signal<Local, Bits<64>>,
    n_ip: Signal<Local, Bits<64>>,
    n_tcp: Signal<Local, Bits<64>>,
    n_addr: Signal<Local, Bits<64>>,
    n_tl: Signal<Local, Bits<4>>,
    n_id: Signal<Local, Bits<4>>,
    n_frag: Signal<Local, Bits<4>>,
    n_ttl: Signal<Local, Bits<4>>,
    n_seqhi: Signal<Local, Bits<4>>,
    n_seqlo: Signal<Local, Bits<4>>,
    n_tcpw: Signal<Local, Bits<4>>,
    n_pay: Signal<Local, Bits<64>>,
    n_bnd: Signal<Local, Bits<64>>,
    n_lane: Signal<Local, Bits<8>>,
    // ---- Locals: stage F ----
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
    c1: Signal<Local, Bits<32>>,
    c2: Signal<Local, Bits<32>>,
    d1: Signal<Local, Bits<32>>,
    d2: Signal<Local, Bits<32>>,
    ti: Signal<Local, TsoInfo>,
    // ---- Locals: the pushed value ----
    u1: Signal<Local, Bits<32>>,
    u2: Signal<Local, Bits<32>>,
    uv: Signal<Local, Bits<32>>,
    lane_le: [Constant<Bits<64>>; 8],
    word: [Constant<Bits<64>>; 4],
    word_hi: [Constant<Bits<64>>; 4],
    bit4: [Constant<Bits<4>>; 4],
    one8: Constant<Bits<8>>,
    odd_lanes: Constant<Bits<8>>,
    ones: Constant<Bits<64>>,
    even_bytes: Constant<Bits<64>>,
    low16: Constant<Bits<32>>,
    low8: Constant<Bits<32>>,
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
            far: Default::default(),
            tso_r: Default::default(),
            mss_r: Default::default(),
            mss_ok_r: Default::default(),
            mss8_r: Default::default(),
            tpid_r: Default::default(),
            etype_r: Default::default(),
            verihl_r: Default::default(),
            vk_r: Default::default(),
            totlen_r: Default::default(),
            id_r: Default::default(),
            frag_r: Default::default(),
            ttlproto_r: Default::default(),
            seqhi_r: Default::default(),
            seqlo_r: Default::default(),
            tcpw_r: Default::default(),
            dk_r: Default::default(),
            l3_r: Default::default(),
            l4_r: Default::default(),
            h_r: Default::default(),
            l4_rel: Default::default(),
            t4_r: Default::default(),
            t6_r: Default::default(),
            t12_r: Default::default(),
            t16_r: Default::default(),
            l4_now: Default::default(),
            l2acc: Default::default(),
            ipacc: Default::default(),
            tcpacc: Default::default(),
            addracc: Default::default(),
            sacc: Default::default(),
            sodd: Default::default(),
            nbnd: Default::default(),
            rel: Default::default(),
            nbv: Default::default(),
            m_l2: Default::default(),
            m_ip: Default::default(),
            m_tcp: Default::default(),
            m_addr: Default::default(),
            c_tl: Default::default(),
            c_id: Default::default(),
            c_frag: Default::default(),
            c_ttl: Default::default(),
            c_seqhi: Default::default(),
            c_seqlo: Default::default(),
            c_tcpw: Default::default(),
            w14_r: Default::default(),
            w14_l2: Default::default(),
            w14_ip: Default::default(),
            at8: Default::default(),
            at16: Default::default(),
            m_pay: Default::default(),
            m_bnd: Default::default(),
            bnd_lane: Default::default(),
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
            swr: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            tp8: Default::default(),
            rw0: Default::default(),
            rw2: Default::default(),
            ml2: Default::default(),
            mip: Default::default(),
            l2s: Default::default(),
            ips: Default::default(),
            tcps: Default::default(),
            addrs: Default::default(),
            tpid_now: Default::default(),
            etype_now: Default::default(),
            verihl_now: Default::default(),
            vk_now: Default::default(),
            tcpw_now: Default::default(),
            dk_now: Default::default(),
            bnd: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            slo: Default::default(),
            shi: Default::default(),
            sacc_now: Default::default(),
            nbnd_now: Default::default(),
            seg_sum: Default::default(),
            npos: Default::default(),
            nfar: Default::default(),
            q0: Default::default(),
            q1: Default::default(),
            q2: Default::default(),
            q3: Default::default(),
            l3_a: Default::default(),
            vk_p: Default::default(),
            l4_p: Default::default(),
            h_a: Default::default(),
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
            hlead: Default::default(),
            rel_n: Default::default(),
            nbv_n: Default::default(),
            bin_n: Default::default(),
            jl_n: Default::default(),
            sodd_now: Default::default(),
            v_l2: Default::default(),
            v_ip: Default::default(),
            v_tcp: Default::default(),
            v_addr: Default::default(),
            n_l2: Default::default(),
            n_ip: Default::default(),
            n_tcp: Default::default(),
            n_addr: Default::default(),
            n_tl: Default::default(),
            n_id: Default::default(),
            n_frag: Default::default(),
            n_ttl: Default::default(),
            n_seqhi: Default::default(),
            n_seqlo: Default::default(),
            n_tcpw: Default::default(),
            n_pay: Default::default(),
            n_bnd: Default::default(),
            n_lane: Default::default(),
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
            c1: Default::default(),
            c2: Default::default(),
            d1: Default::default(),
            d2: Default::default(),
            ti: Default::default(),
            u1: Default::default(),
            u2: Default::default(),
            uv: Default::default(),
            lane_le: std::array::from_fn(|i| Constant::new((0xffu64 << (8 * i)).to_bits())),
            word: std::array::from_fn(|i| Constant::new((0xffffu64 << (16 * i)).to_bits())),
            word_hi: std::array::from_fn(|i| Constant::new((0xff00u64 << (16 * i)).to_bits())),
            bit4: std::array::from_fn(|i| Constant::new((1u64 << i).to_bits())),
            one8: Constant::new(1u64.to_bits()),
            odd_lanes: Constant::new(0xaau64.to_bits()),
            ones: Constant::new(u64::MAX.to_bits()),
            even_bytes: Constant::new(0x00ff_00ff_00ff_00ffu64.to_bits()),
            low16: Constant::new(0xffffu64.to_bits()),
            low8: Constant::new(0xffu64.to_bits()),
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
            far,
            tso_r,
            mss_r,
            mss_ok_r,
            mss8_r,
            tpid_r,
            etype_r,
            verihl_r,
            vk_r,
            totlen_r,
            id_r,
            frag_r,
            ttlproto_r,
            seqhi_r,
            seqlo_r,
            tcpw_r,
            dk_r,
            l3_r,
            l4_r,
            l4_rel,
            h_r,
            t4_r,
            t6_r,
            t12_r,
            t16_r,
            l2acc,
            ipacc,
            tcpacc,
            addracc,
            sacc,
            sodd,
            nbnd,
            rel,
            nbv,
            m_l2,
            m_ip,
            m_tcp,
            m_addr,
            c_tl,
            c_id,
            c_frag,
            c_ttl,
            c_seqhi,
            c_seqlo,
            c_tcpw,
            w14_r,
            w14_l2,
            w14_ip,
            at8,
            at16,
            m_pay,
            m_bnd,
            bnd_lane,
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
        self.u1.next = (self.praw_r.q.val() & self.low16.val()) + (self.praw_r.q.val() >> 16);
        self.u2.next = (self.u1.val() & self.low16.val()) + (self.u1.val() >> 16);
        self.uv.next = self.u2.val();
        if self.podd_r.q.val() {
            self.uv.next = ((self.u2.val() & self.low8.val()) << 8) | (self.u2.val() >> 8);
        }
        self.sum_value.next = bit_cast::<16, 32>(self.uv.val());

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
        self.swr.next = ((self.tdata.val() & self.even_bytes.val()) << 8)
            | ((self.tdata.val() >> 8) & self.even_bytes.val());
        self.x0.next = self.swb.val().get_bits::<16>(0);
        self.x1.next = self.swb.val().get_bits::<16>(16);
        self.x2.next = self.swb.val().get_bits::<16>(32);
        self.x3.next = self.swb.val().get_bits::<16>(48);

        // ---- Fields at fixed places: the 802.1Q tag, EtherType, IHL ----
        self.tpid_now.next = self.tpid_r.q.val() & self.in_frame.q.val();
        self.etype_now.next = self.etype_r.q.val();
        self.verihl_now.next = self.verihl_r.q.val();
        self.vk_now.next = self.vk_r.q.val() & self.in_frame.q.val();
        if !self.in_frame.q.val() {
            self.etype_now.next = 0.into();
            self.verihl_now.next = 0.into();
        }
        // (From the beat as it came, not `bm`: a byte that is not there
        // makes the frame too short for the length checks, whatever it
        // held; this keeps `tkeep` out of the next beat's masks.)
        self.rw0.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(0)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(8));
        self.rw2.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(32)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(40));
        self.tp8.next = self.at8.q.val() & (self.rw2.val() == self.tpid.val());
        if self.at8.q.val() {
            self.tpid_now.next = self.tp8.val();
            self.etype_now.next = self.rw2.val();
            if !self.tp8.val() {
                self.verihl_now.next = self.tdata.val().get_bits::<8>(48);
                self.vk_now.next = true;
            }
        }
        if self.at16.q.val() & self.tpid_now.val() {
            self.etype_now.next = self.rw0.val();
            self.verihl_now.next = self.tdata.val().get_bits::<8>(16);
            self.vk_now.next = true;
        }
        // D: from the word at L4 + 12, wherever the masks say it is, as
        // it came: a `tso_ok` frame has `len >= L4 + 20`, so both of its
        // bytes are there, and D (through H) steers the next beat's masks.
        self.tcpw_now.next = self.tcpw_r.q.val();
        self.dk_now.next = self.dk_r.q.val() & self.in_frame.q.val();
        if self.c_tcpw.q.val().get_bit(0) {
            self.tcpw_now.next = self.swr.val().get_bits::<16>(0);
            self.dk_now.next = true;
        }
        if self.c_tcpw.q.val().get_bit(1) {
            self.tcpw_now.next = self.swr.val().get_bits::<16>(16);
            self.dk_now.next = true;
        }
        if self.c_tcpw.q.val().get_bit(2) {
            self.tcpw_now.next = self.swr.val().get_bits::<16>(32);
            self.dk_now.next = true;
        }
        if self.c_tcpw.q.val().get_bit(3) {
            self.tcpw_now.next = self.swr.val().get_bits::<16>(48);
            self.dk_now.next = true;
        }

        // ---- Header sums: the masked words, summed as a tree ----
        // Word 14 (the second beat's last) is the IPv4 header's first,
        // unless that same beat's EtherType is a tag. Rather than let the
        // beat's own bytes steer its words, it is held and summed with the
        // third beat, in a slot that beat leaves empty (word 1 of L2 when
        // tagged, word 0, the total length, of IPv4 when not).
        self.ml2.next = self.m_l2.q.val();
        self.mip.next = self.m_ip.q.val();
        // A first beat is all L2 (the masks are 0 between frames, as at
        // power-up).
        if !self.in_frame.q.val() {
            self.ml2.next = self.ones.val();
        }
        self.v_l2.next = self.swb.val() & self.ml2.val();
        self.v_ip.next = self.swb.val() & self.mip.val();
        if self.w14_l2.q.val() {
            self.v_l2.next =
                (self.swb.val() & self.ml2.val()) | (bit_cast::<64, 16>(self.w14_r.q.val()) << 16);
        }
        if self.w14_ip.q.val() {
            self.v_ip.next =
                (self.swb.val() & self.mip.val()) | bit_cast::<64, 16>(self.w14_r.q.val());
        }
        self.l2s.next = (bit_cast::<32, 16>(self.v_l2.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.v_l2.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.v_l2.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.v_l2.val().get_bits::<16>(48)));
        self.ips.next = (bit_cast::<32, 16>(self.v_ip.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.v_ip.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.v_ip.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.v_ip.val().get_bits::<16>(48)));
        self.v_tcp.next = self.swb.val() & self.m_tcp.q.val();
        self.tcps.next = (bit_cast::<32, 16>(self.v_tcp.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.v_tcp.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.v_tcp.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.v_tcp.val().get_bits::<16>(48)));
        self.v_addr.next = self.swb.val() & self.m_addr.q.val();
        self.addrs.next = (bit_cast::<32, 16>(self.v_addr.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.v_addr.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.v_addr.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.v_addr.val().get_bits::<16>(48)));

        // ---- Segments: payload lanes, split at a boundary ----
        self.bnd.next = (self.tkeep.val() & self.bnd_lane.q.val()) != 0;
        self.lo.next = self.swb.val() & self.m_pay.q.val() & !self.m_bnd.q.val();
        self.hi.next = self.swb.val() & self.m_pay.q.val() & self.m_bnd.q.val();
        self.slo.next = (bit_cast::<32, 16>(self.lo.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.lo.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.lo.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.lo.val().get_bits::<16>(48)));
        self.shi.next = (bit_cast::<32, 16>(self.hi.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.hi.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.hi.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.hi.val().get_bits::<16>(48)));
        self.sacc_now.next = self.sacc.q.val();
        self.sodd_now.next = self.sodd.q.val();
        self.nbnd_now.next = self.nbnd.q.val();
        if !self.in_frame.q.val() {
            self.sacc_now.next = 0.into();
            self.sodd_now.next = false;
            self.nbnd_now.next = 0.into();
        }
        self.seg_sum.next = self.sacc_now.val() + self.slo.val();

        // ---- The next beat's masks, from what is known after this one ----
        // The next position's low byte (`nfar`: 256 or more).
        self.npos.next = self.pos.q.val().get_bits::<8>(0) + 8;
        self.nfar.next = self.far.q.val() | (self.pos.q.val().get_bits::<8>(0) == 248);
        self.q0.next = self.npos.val();
        self.q1.next = self.pos.q.val().get_bits::<8>(0) + 10;
        self.q2.next = self.pos.q.val().get_bits::<8>(0) + 12;
        self.q3.next = self.pos.q.val().get_bits::<8>(0) + 14;
        self.l3_a.next = 14.into();
        if self.tpid_now.val() {
            self.l3_a.next = 18.into();
        }
        // L4 as known before this beat: a valid frame's first L4-relative
        // word is two beats past its IHL, and this beat's IHL would only
        // lengthen the path.
        self.vk_p.next = self.vk_r.q.val() & self.in_frame.q.val();
        self.l4_p.next = self.l4_r.q.val();
        // H with this beat's D: the payload may start in the next beat.
        self.h_a.next = self.l4_p.val() + (bit_cast::<8, 16>(self.tcpw_now.val() >> 12) << 2);
        // Constants picked by the tag rather than sums on `l3_a`, and the
        // L4-relative places registered with L4: no adder before the
        // compares.
        self.i2.next = 16.into();
        self.i4.next = 18.into();
        self.i6.next = 20.into();
        self.i8.next = 22.into();
        self.i10.next = 24.into();
        self.i12.next = 26.into();
        self.i20.next = 34.into();
        if self.tpid_now.val() {
            self.i2.next = 20.into();
            self.i4.next = 22.into();
            self.i6.next = 24.into();
            self.i8.next = 26.into();
            self.i10.next = 28.into();
            self.i12.next = 30.into();
            self.i20.next = 38.into();
        }
        self.t4.next = self.t4_r.q.val();
        self.t6.next = self.t6_r.q.val();
        self.t12.next = self.t12_r.q.val();
        self.t16.next = self.t16_r.q.val();
        self.n_l2.next = 0.into();
        self.n_ip.next = 0.into();
        self.n_tcp.next = 0.into();
        self.n_addr.next = 0.into();
        self.n_tl.next = 0.into();
        self.n_id.next = 0.into();
        self.n_frag.next = 0.into();
        self.n_ttl.next = 0.into();
        self.n_seqhi.next = 0.into();
        self.n_seqlo.next = 0.into();
        self.n_tcpw.next = 0.into();
        if !self.nfar.val() {
            // Word 0.
            if self.q0.val() < self.l3_a.val() {
                self.n_l2.next = self.n_l2.val() | self.word[0].val();
            }
            if (self.q0.val() >= self.l3_a.val())
                & (self.q0.val() != 14)
                & ((self.q0.val() < self.l4_p.val()) | !self.vk_p.val())
                & (self.q0.val() != self.i2.val())
                & (self.q0.val() != self.i4.val())
                & (self.q0.val() != self.i10.val())
            {
                self.n_ip.next = self.n_ip.val() | self.word[0].val();
            }
            if (self.q0.val() >= self.i12.val()) & (self.q0.val() < self.i20.val()) {
                self.n_addr.next = self.n_addr.val() | self.word[0].val();
                self.n_tcp.next = self.n_tcp.val() | self.word[0].val();
            }
            if self.vk_p.val()
                & (self.q0.val() >= self.l4_p.val())
                & ((self.q0.val() < self.h_a.val()) | !self.dk_now.val())
                & (self.q0.val() != self.t4.val())
                & (self.q0.val() != self.t6.val())
                & (self.q0.val() != self.t16.val())
            {
                if self.q0.val() == self.t12.val() {
                    self.n_tcp.next = self.n_tcp.val() | self.word_hi[0].val();
                } else {
                    self.n_tcp.next = self.n_tcp.val() | self.word[0].val();
                }
            }
            if self.q0.val() == self.i2.val() {
                self.n_tl.next = self.n_tl.val() | self.bit4[0].val();
            }
            if self.q0.val() == self.i4.val() {
                self.n_id.next = self.n_id.val() | self.bit4[0].val();
            }
            if self.q0.val() == self.i6.val() {
                self.n_frag.next = self.n_frag.val() | self.bit4[0].val();
            }
            if self.q0.val() == self.i8.val() {
                self.n_ttl.next = self.n_ttl.val() | self.bit4[0].val();
            }
            if self.vk_p.val() & (self.q0.val() == self.t4.val()) {
                self.n_seqhi.next = self.n_seqhi.val() | self.bit4[0].val();
            }
            if self.vk_p.val() & (self.q0.val() == self.t6.val()) {
                self.n_seqlo.next = self.n_seqlo.val() | self.bit4[0].val();
            }
            if self.vk_p.val() & (self.q0.val() == self.t12.val()) {
                self.n_tcpw.next = self.n_tcpw.val() | self.bit4[0].val();
            }
            // Word 1.
            if self.q1.val() < self.l3_a.val() {
                self.n_l2.next = self.n_l2.val() | self.word[1].val();
            }
            if (self.q1.val() >= self.l3_a.val())
                & (self.q1.val() != 14)
                & ((self.q1.val() < self.l4_p.val()) | !self.vk_p.val())
                & (self.q1.val() != self.i2.val())
                & (self.q1.val() != self.i4.val())
                & (self.q1.val() != self.i10.val())
            {
                self.n_ip.next = self.n_ip.val() | self.word[1].val();
            }
            if (self.q1.val() >= self.i12.val()) & (self.q1.val() < self.i20.val()) {
                self.n_addr.next = self.n_addr.val() | self.word[1].val();
                self.n_tcp.next = self.n_tcp.val() | self.word[1].val();
            }
            if self.vk_p.val()
                & (self.q1.val() >= self.l4_p.val())
                & ((self.q1.val() < self.h_a.val()) | !self.dk_now.val())
                & (self.q1.val() != self.t4.val())
                & (self.q1.val() != self.t6.val())
                & (self.q1.val() != self.t16.val())
            {
                if self.q1.val() == self.t12.val() {
                    self.n_tcp.next = self.n_tcp.val() | self.word_hi[1].val();
                } else {
                    self.n_tcp.next = self.n_tcp.val() | self.word[1].val();
                }
            }
            if self.q1.val() == self.i2.val() {
                self.n_tl.next = self.n_tl.val() | self.bit4[1].val();
            }
            if self.q1.val() == self.i4.val() {
                self.n_id.next = self.n_id.val() | self.bit4[1].val();
            }
            if self.q1.val() == self.i6.val() {
                self.n_frag.next = self.n_frag.val() | self.bit4[1].val();
            }
            if self.q1.val() == self.i8.val() {
                self.n_ttl.next = self.n_ttl.val() | self.bit4[1].val();
            }
            if self.vk_p.val() & (self.q1.val() == self.t4.val()) {
                self.n_seqhi.next = self.n_seqhi.val() | self.bit4[1].val();
            }
            if self.vk_p.val() & (self.q1.val() == self.t6.val()) {
                self.n_seqlo.next = self.n_seqlo.val() | self.bit4[1].val();
            }
            if self.vk_p.val() & (self.q1.val() == self.t12.val()) {
                self.n_tcpw.next = self.n_tcpw.val() | self.bit4[1].val();
            }
            // Word 2.
            if self.q2.val() < self.l3_a.val() {
                self.n_l2.next = self.n_l2.val() | self.word[2].val();
            }
            if (self.q2.val() >= self.l3_a.val())
                & (self.q2.val() != 14)
                & ((self.q2.val() < self.l4_p.val()) | !self.vk_p.val())
                & (self.q2.val() != self.i2.val())
                & (self.q2.val() != self.i4.val())
                & (self.q2.val() != self.i10.val())
            {
                self.n_ip.next = self.n_ip.val() | self.word[2].val();
            }
            if (self.q2.val() >= self.i12.val()) & (self.q2.val() < self.i20.val()) {
                self.n_addr.next = self.n_addr.val() | self.word[2].val();
                self.n_tcp.next = self.n_tcp.val() | self.word[2].val();
            }
            if self.vk_p.val()
                & (self.q2.val() >= self.l4_p.val())
                & ((self.q2.val() < self.h_a.val()) | !self.dk_now.val())
                & (self.q2.val() != self.t4.val())
                & (self.q2.val() != self.t6.val())
                & (self.q2.val() != self.t16.val())
            {
                if self.q2.val() == self.t12.val() {
                    self.n_tcp.next = self.n_tcp.val() | self.word_hi[2].val();
                } else {
                    self.n_tcp.next = self.n_tcp.val() | self.word[2].val();
                }
            }
            if self.q2.val() == self.i2.val() {
                self.n_tl.next = self.n_tl.val() | self.bit4[2].val();
            }
            if self.q2.val() == self.i4.val() {
                self.n_id.next = self.n_id.val() | self.bit4[2].val();
            }
            if self.q2.val() == self.i6.val() {
                self.n_frag.next = self.n_frag.val() | self.bit4[2].val();
            }
            if self.q2.val() == self.i8.val() {
                self.n_ttl.next = self.n_ttl.val() | self.bit4[2].val();
            }
            if self.vk_p.val() & (self.q2.val() == self.t4.val()) {
                self.n_seqhi.next = self.n_seqhi.val() | self.bit4[2].val();
            }
            if self.vk_p.val() & (self.q2.val() == self.t6.val()) {
                self.n_seqlo.next = self.n_seqlo.val() | self.bit4[2].val();
            }
            if self.vk_p.val() & (self.q2.val() == self.t12.val()) {
                self.n_tcpw.next = self.n_tcpw.val() | self.bit4[2].val();
            }
            // Word 3.
            if self.q3.val() < self.l3_a.val() {
                self.n_l2.next = self.n_l2.val() | self.word[3].val();
            }
            if (self.q3.val() >= self.l3_a.val())
                & (self.q3.val() != 14)
                & ((self.q3.val() < self.l4_p.val()) | !self.vk_p.val())
                & (self.q3.val() != self.i2.val())
                & (self.q3.val() != self.i4.val())
                & (self.q3.val() != self.i10.val())
            {
                self.n_ip.next = self.n_ip.val() | self.word[3].val();
            }
            if (self.q3.val() >= self.i12.val()) & (self.q3.val() < self.i20.val()) {
                self.n_addr.next = self.n_addr.val() | self.word[3].val();
                self.n_tcp.next = self.n_tcp.val() | self.word[3].val();
            }
            if self.vk_p.val()
                & (self.q3.val() >= self.l4_p.val())
                & ((self.q3.val() < self.h_a.val()) | !self.dk_now.val())
                & (self.q3.val() != self.t4.val())
                & (self.q3.val() != self.t6.val())
                & (self.q3.val() != self.t16.val())
            {
                if self.q3.val() == self.t12.val() {
                    self.n_tcp.next = self.n_tcp.val() | self.word_hi[3].val();
                } else {
                    self.n_tcp.next = self.n_tcp.val() | self.word[3].val();
                }
            }
            if self.q3.val() == self.i2.val() {
                self.n_tl.next = self.n_tl.val() | self.bit4[3].val();
            }
            if self.q3.val() == self.i4.val() {
                self.n_id.next = self.n_id.val() | self.bit4[3].val();
            }
            if self.q3.val() == self.i6.val() {
                self.n_frag.next = self.n_frag.val() | self.bit4[3].val();
            }
            if self.q3.val() == self.i8.val() {
                self.n_ttl.next = self.n_ttl.val() | self.bit4[3].val();
            }
            if self.vk_p.val() & (self.q3.val() == self.t4.val()) {
                self.n_seqhi.next = self.n_seqhi.val() | self.bit4[3].val();
            }
            if self.vk_p.val() & (self.q3.val() == self.t6.val()) {
                self.n_seqlo.next = self.n_seqlo.val() | self.bit4[3].val();
            }
            if self.vk_p.val() & (self.q3.val() == self.t12.val()) {
                self.n_tcpw.next = self.n_tcpw.val() | self.bit4[3].val();
            }
        }
        self.l4_now.next =
            self.l3_a.val() + (bit_cast::<8, 4>(bit_cast::<4, 8>(self.verihl_now.val())) << 2);
        // H - npos (exact while `!nfar`: the position has not wrapped).
        self.hlead.next = self.l4_rel.q.val() + (bit_cast::<9, 16>(self.tcpw_now.val() >> 12) << 2);
        self.n_pay.next = 0.into();
        if self.dk_now.val() {
            if self.nfar.val() | self.hlead.val().get_bit(8) | (self.hlead.val() == 0) {
                self.n_pay.next = self.ones.val();
            } else if self.hlead.val() < 8 {
                self.n_pay.next = self.ones.val() << (self.hlead.val() << 3);
            }
        }
        // The next boundary, relative to `pos`: set from H + mss in the
        // beat after D's (the first boundary is at least 52 bytes past D's
        // beat), then moved on 8 a beat and `mss` a boundary. A boundary
        // is in the next beat only if it is 8 to 15 bytes ahead and none
        // was passed in this one (`mss >= 64`); its lane is `rel mod 8`.
        self.rel_n.next = self.rel.q.val() - 8;
        if self.bnd.val() {
            self.rel_n.next = self.rel.q.val() + self.mss8_r.q.val();
        }
        self.nbv_n.next = self.nbv.q.val() & self.in_frame.q.val();
        self.bin_n.next = self.nbv_n.val()
            & self.mss_ok_r.q.val()
            & !self.bnd.val()
            & ((self.rel.q.val() >> 3) == 1);
        if !self.nbv_n.val() & self.dk_r.q.val() & self.in_frame.q.val() {
            self.rel_n.next = bit_cast::<18, 8>(self.h_r.q.val())
                + bit_cast::<18, 16>(self.mss_r.q.val())
                - bit_cast::<18, 16>(self.pos.q.val() + 8);
            self.nbv_n.next = true;
        }
        self.jl_n.next = bit_cast::<8, 3>(self.rel.q.val().get_bits::<3>(0));
        self.n_lane.next = 0.into();
        self.n_bnd.next = 0.into();
        if self.bin_n.val() {
            self.n_lane.next = self.one8.val() << self.jl_n.val();
            self.n_bnd.next = self.ones.val() << (self.jl_n.val() << 3);
        }

        // ---- Taking the beat ----
        self.f_valid.d.next = false;
        self.push_r.d.next = false;
        if self.beat.val() {
            self.in_frame.d.next = !self.tlast.val();
            self.pos.d.next = self.pos.q.val() + 8;
            self.far.d.next = self.nfar.val();
            self.tso_r.d.next = self.tso_now.val();
            self.mss_r.d.next = self.mss_now.val();
            self.mss_ok_r.d.next = self.mss_now.val() >= self.mss_min.val();
            self.mss8_r.d.next = bit_cast::<18, 16>(self.mss_now.val()) - 8;
            self.tpid_r.d.next = self.tpid_now.val();
            self.etype_r.d.next = self.etype_now.val();
            self.verihl_r.d.next = self.verihl_now.val();
            self.vk_r.d.next = self.vk_now.val();
            self.tcpw_r.d.next = self.tcpw_now.val();
            self.dk_r.d.next = self.dk_now.val();
            self.l3_r.d.next = self.l3_a.val();
            self.l4_r.d.next = self.l4_now.val();
            self.l4_rel.d.next = bit_cast::<9, 8>(self.l4_now.val())
                - bit_cast::<9, 8>(self.pos.q.val().get_bits::<8>(0))
                - 16;
            self.t4_r.d.next = self.l4_now.val() + 4;
            self.t6_r.d.next = self.l4_now.val() + 6;
            self.t12_r.d.next = self.l4_now.val() + 12;
            self.t16_r.d.next = self.l4_now.val() + 16;
            self.h_r.d.next = self.h_a.val();
            self.l2acc.d.next = self.l2acc.q.val() + self.l2s.val();
            self.ipacc.d.next = self.ipacc.q.val() + self.ips.val();
            self.tcpacc.d.next = self.tcpacc.q.val() + self.tcps.val();
            self.addracc.d.next = self.addracc.q.val() + self.addrs.val();
            if !self.in_frame.q.val() {
                self.l2acc.d.next = self.l2s.val();
                self.ipacc.d.next = self.ips.val();
                self.tcpacc.d.next = self.tcps.val() + 6;
                self.addracc.d.next = self.addrs.val();
            }
            // Header fields: the words the masks point at.
            if self.c_tl.q.val().get_bit(0) {
                self.totlen_r.d.next = self.x0.val();
            }
            if self.c_tl.q.val().get_bit(1) {
                self.totlen_r.d.next = self.x1.val();
            }
            if self.c_tl.q.val().get_bit(2) {
                self.totlen_r.d.next = self.x2.val();
            }
            if self.c_tl.q.val().get_bit(3) {
                self.totlen_r.d.next = self.x3.val();
            }
            if self.c_id.q.val().get_bit(0) {
                self.id_r.d.next = self.x0.val();
            }
            if self.c_id.q.val().get_bit(1) {
                self.id_r.d.next = self.x1.val();
            }
            if self.c_id.q.val().get_bit(2) {
                self.id_r.d.next = self.x2.val();
            }
            if self.c_id.q.val().get_bit(3) {
                self.id_r.d.next = self.x3.val();
            }
            if self.c_frag.q.val().get_bit(0) {
                self.frag_r.d.next = self.x0.val();
            }
            if self.c_frag.q.val().get_bit(1) {
                self.frag_r.d.next = self.x1.val();
            }
            if self.c_frag.q.val().get_bit(2) {
                self.frag_r.d.next = self.x2.val();
            }
            if self.c_frag.q.val().get_bit(3) {
                self.frag_r.d.next = self.x3.val();
            }
            if self.c_ttl.q.val().get_bit(0) {
                self.ttlproto_r.d.next = self.x0.val();
            }
            if self.c_ttl.q.val().get_bit(1) {
                self.ttlproto_r.d.next = self.x1.val();
            }
            if self.c_ttl.q.val().get_bit(2) {
                self.ttlproto_r.d.next = self.x2.val();
            }
            if self.c_ttl.q.val().get_bit(3) {
                self.ttlproto_r.d.next = self.x3.val();
            }
            if self.c_seqhi.q.val().get_bit(0) {
                self.seqhi_r.d.next = self.x0.val();
            }
            if self.c_seqhi.q.val().get_bit(1) {
                self.seqhi_r.d.next = self.x1.val();
            }
            if self.c_seqhi.q.val().get_bit(2) {
                self.seqhi_r.d.next = self.x2.val();
            }
            if self.c_seqhi.q.val().get_bit(3) {
                self.seqhi_r.d.next = self.x3.val();
            }
            if self.c_seqlo.q.val().get_bit(0) {
                self.seqlo_r.d.next = self.x0.val();
            }
            if self.c_seqlo.q.val().get_bit(1) {
                self.seqlo_r.d.next = self.x1.val();
            }
            if self.c_seqlo.q.val().get_bit(2) {
                self.seqlo_r.d.next = self.x2.val();
            }
            if self.c_seqlo.q.val().get_bit(3) {
                self.seqlo_r.d.next = self.x3.val();
            }
            self.sacc.d.next = self.seg_sum.val();
            self.sodd.d.next = self.sodd_now.val();
            self.nbnd.d.next = self.nbnd_now.val();
            if self.bnd.val() {
                self.sacc.d.next = self.shi.val();
                self.sodd.d.next = (self.bnd_lane.q.val() & self.odd_lanes.val()) != 0;
                self.nbnd.d.next = self.nbnd_now.val() + 1;
                if self.tso_now.val() {
                    self.push_r.d.next = true;
                    self.praw_r.d.next = self.seg_sum.val();
                    self.podd_r.d.next = self.sodd_now.val();
                }
            }
            self.rel.d.next = self.rel_n.val();
            self.nbv.d.next = self.nbv_n.val();
            // The masks are kept in natural-word order, as `swb`.
            self.m_pay.d.next = ((self.n_pay.val() & self.even_bytes.val()) << 8)
                | ((self.n_pay.val() >> 8) & self.even_bytes.val());
            self.m_bnd.d.next = ((self.n_bnd.val() & self.even_bytes.val()) << 8)
                | ((self.n_bnd.val() >> 8) & self.even_bytes.val());
            self.bnd_lane.d.next = self.n_lane.val();
            self.m_l2.d.next = self.n_l2.val();
            self.m_ip.d.next = self.n_ip.val();
            self.m_tcp.d.next = self.n_tcp.val();
            self.m_addr.d.next = self.n_addr.val();
            self.c_tl.d.next = self.n_tl.val();
            self.c_id.d.next = self.n_id.val();
            self.c_frag.d.next = self.n_frag.val();
            self.c_ttl.d.next = self.n_ttl.val();
            self.c_seqhi.d.next = self.n_seqhi.val();
            self.c_seqlo.d.next = self.n_seqlo.val();
            self.c_tcpw.d.next = self.n_tcpw.val();
            self.at8.d.next = self.pos.q.val() == 0;
            self.w14_r.d.next = self.x3.val();
            self.w14_l2.d.next = self.tp8.val();
            self.w14_ip.d.next = self.at8.q.val() & !self.tp8.val();
            self.at16.d.next = self.at8.q.val();
            if self.tlast.val() {
                // The next beat is a frame's first: everything back to 0.
                self.pos.d.next = 0.into();
                self.far.d.next = false;
                self.f_valid.d.next = true;
                self.f_len.d.next = self.pos.q.val() + self.nbytes.val();
                self.nbv.d.next = false;
                self.m_pay.d.next = 0.into();
                self.m_bnd.d.next = 0.into();
                self.bnd_lane.d.next = 0.into();
                self.m_l2.d.next = 0.into();
                self.m_ip.d.next = 0.into();
                self.m_tcp.d.next = 0.into();
                self.m_addr.d.next = 0.into();
                self.c_tl.d.next = 0.into();
                self.c_id.d.next = 0.into();
                self.c_frag.d.next = 0.into();
                self.c_ttl.d.next = 0.into();
                self.c_seqhi.d.next = 0.into();
                self.c_seqlo.d.next = 0.into();
                self.c_tcpw.d.next = 0.into();
                self.at8.d.next = false;
                self.at16.d.next = false;
                self.w14_l2.d.next = false;
                self.w14_ip.d.next = false;
            }
        }

        // ---- Stage F: the checks and the record ----
        self.l3.next = bit_cast::<16, 8>(self.l3_r.q.val());
        self.l4.next = bit_cast::<16, 8>(self.l4_r.q.val());
        self.hl.next = bit_cast::<16, 8>(self.h_r.q.val());
        self.ihl4.next = bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_r.q.val())) << 2;
        self.doff4.next = (self.tcpw_r.q.val() >> 12) << 2;
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
            & self.mss_ok_r.q.val();
        self.a1.next = (self.l2acc.q.val() & self.low16.val()) + (self.l2acc.q.val() >> 16);
        self.a2.next = (self.a1.val() & self.low16.val()) + (self.a1.val() >> 16);
        self.b1.next = (self.ipacc.q.val() & self.low16.val()) + (self.ipacc.q.val() >> 16);
        self.b2.next = (self.b1.val() & self.low16.val()) + (self.b1.val() >> 16);
        self.c1.next = (self.tcpacc.q.val() & self.low16.val()) + (self.tcpacc.q.val() >> 16);
        self.c2.next = (self.c1.val() & self.low16.val()) + (self.c1.val() >> 16);
        self.d1.next = (self.addracc.q.val() & self.low16.val()) + (self.addracc.q.val() >> 16);
        self.d2.next = (self.d1.val() & self.low16.val()) + (self.d1.val() >> 16);
        self.ti.next.en = self.tso_r.q.val() & self.ok.val();
        self.ti.next.mss = self.mss_r.q.val();
        self.ti.next.l3 = self.l3_r.q.val();
        self.ti.next.l4 = self.l4_r.q.val();
        self.ti.next.hdr_len = self.h_r.q.val();
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
            self.seg_l3_max_r.d.next = (self.hl.val() - self.l3.val()) + self.minp.val();
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
