//! TX checksum tap: watches a host frame go by and works out the two
//! checksums the host may ask for (`docs/tx-offload.md`, "Checksum request"
//! and "IPv4 header checksum"), without ever holding the stream up. The
//! results come out as a [`ChecksumPatch`] for the `ChecksumInserter`, with
//! the two validity flags the refusal rules need.
//!
//! Ones'-complement sums do not care about byte order except for a swap:
//! summing the frame in its natural words (bytes `2k, 2k+1`, lanes 0-1, 2-3,
//! 4-5, 6-7 of each beat) with every byte before `csum_start` taken as 0
//! gives the sum in words aligned to `csum_start` when it is even, and that
//! sum byte-swapped when it is odd (RFC 1071). So each beat adds its four
//! masked lane pairs to a 32-bit accumulator and the swap is done once at
//! the end. The IPv4 header starts at 14 or 18 (even), so its words are
//! natural words too; each beat adds those in `[L3, L4)` other than the
//! checksum field at `L3 + 10`. `L3` and the IHL are known by the beat that
//! carries the header's first word (bytes 12-14 in beat 1 untagged, 16-18 in
//! beat 2 tagged), taken from the beat itself when it is the one:
//!
//! ```text
//!  beat | lanes 0-1  | 2-3          | 4-5          | 6-7
//!  -----+------------+--------------+--------------+--------------
//!   1   |            |              | TPID/type    | ver,IHL (L3 14)
//!   2   | type (VLAN)| ver,IHL (18) |              |
//!  1-9  | IPv4 header words, L3 .. L4 = L3 + 4*IHL <= 78
//! ```
//!
//! Which of a beat's words are the header's (and which lanes are at or
//! after `csum_start`) is worked out while the beat before moves, and
//! registered, so a beat's own cycle is a mask, a tree of adds and the
//! accumulate. That is exact for every frame with a valid IPv4 header: its
//! words before `L3 + 20` are the header's whatever the IHL, the IHL is two
//! beats before the first word it bounds, and the one word whose place
//! depends on its own beat (byte 14, unless bytes 12-13 are a tag) is
//! masked by that beat's tag compare. For other frames `ip_ok` is false,
//! from fields captured exactly. The length checks and the L4 write's
//! position are registered with the last beat too.
//!
//! It also sums the whole frame in natural words (`inner_sum`, for the
//! optional outer UDP checksum) as it will be sent, after the writes. The
//! writes' values are only known at the end, so the sum is taken from the
//! host's bytes and the (at most four) bytes the writes replace are
//! captured as they go by: the L4 field's two at `csum_start + csum_offset`
//! (anywhere, known from the first beat) and the IPv4 field's word at 24 or
//! 28 (both in beat 3). At the end each replaced byte's contribution is
//! taken away (adding its complement) and the new byte's added, a byte at
//! an even position being a word's high byte; an IPv4 byte the L4 write
//! also covers is left to the L4 one, which wins. Ones'-complement zero can
//! come out as 0x0000 or 0xffff, which a checksum over it treats alike.
//!
//! Timing, for a frame whose last beat is taken in cycle t: the sums, the
//! length and the header bytes are registered at the end of t (stage F);
//! the folds, complements, checks and the inner sum's correction terms,
//! added in pairs, at the end of t+1 (stage G); the inner sum's last adds
//! and folds at the end of t+2; and in cycle t+3 `done` is high with the
//! results, which then hold until the next `done`. (Stage G splits what
//! was one cycle of the IPv4 checksum's fold, the seven corrections' tree
//! and the inner sum's two folds, the block's slowest path.) Frames of one
//! beat every cycle, and idle cycles anywhere, are fine; frames are at most
//! 65535 bytes (positions are 16 bits).
//!
//! ```text
//!  cycle  |  0  |  1  |  2  |  3  |  4  |  5
//!  beat   |  1  |  1L |  1L |  0  |  0  |  0      (L = tlast)
//!  done   |  0  |  0  |  0  |  0  |  1  |  1
//!  result |  previous frame's           |  A  |  B
//! ```
//!
//! Per-frame state is restarted by each frame's first beat and the power-up
//! values are all 0, so the block needs no reset input.

use crate::tx_types::{ChecksumPatch, TxOffloadRequest};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct TxChecksumTap {
    pub clock: Signal<In, Clock>,
    /// The observed stream's data, keep and last (lane 0 = first byte).
    pub tdata: Signal<In, Bits<64>>,
    pub tkeep: Signal<In, Bits<8>>,
    pub tlast: Signal<In, Bit>,
    /// A beat moved on the observed stream this cycle (tvalid & tready).
    pub beat: Signal<In, Bit>,
    /// The frame's request, read with its first beat.
    pub req: Signal<In, TxOffloadRequest>,
    /// High for one cycle, three cycles after a frame's last beat moved; the
    /// outputs below then hold that frame's results until the next `done`.
    pub done: Signal<Out, Bit>,
    /// `csum_start + csum_offset + 2 <= len` (whether or not `csum` is set).
    pub csum_ok: Signal<Out, Bit>,
    /// The frame has an IPv4 header (whether or not `ip_csum` is set).
    pub ip_ok: Signal<Out, Bit>,
    /// The writes: `l4_en = csum & csum_ok`, `l4_pos = csum_start +
    /// csum_offset` (mod 2^16), `l4_value` the checksum (0 sent as 0xffff);
    /// `ip_en = ip_csum & ip_ok`, `ip_pos = L3 + 10`, `ip_value` the IPv4
    /// header checksum. Values are computed whatever the flags, but
    /// `ip_value` is the header's checksum only when `ip_ok` (the header's
    /// word masks assume a valid header).
    pub patch: Signal<Out, ChecksumPatch>,
    /// Folded ones'-complement sum (not complemented) of the whole frame as
    /// it will be sent, i.e. after `patch`'s enabled writes, in natural
    /// words from byte 0 (an odd last byte padded with a zero low byte): the
    /// inner part of the optional outer UDP checksum. Ones'-complement zero
    /// may come out as 0x0000 or 0xffff.
    pub inner_sum: Signal<Out, Bits<16>>,
    // ---- Per-frame state, updated as beats go by ----
    in_frame: DFF<Bit>,
    /// Byte offset of the next beat (8 x beats so far; 0 between frames).
    pos: DFF<Bits<16>>,
    req_r: DFF<TxOffloadRequest>,
    tpid_r: DFF<Bit>,
    etype_r: DFF<Bits<16>>,
    verihl_r: DFF<Bits<8>>,
    lacc: DFF<Bits<32>>,
    iacc: DFF<Bits<32>>,
    /// Which of this beat's four words are IPv4 header words (not the
    /// checksum field), worked out while the beat before moved.
    imask: [DFF<Bit>; 4],
    /// The next beat's lanes at or after csum_start (bit i: lane i).
    smask_r: DFF<Bits<8>>,
    /// `csum_start` less the position of the beat after this one, signed
    /// (18 bits: a 16-bit difference either way), kept a beat ahead so
    /// that `smask_r` is a compare and a shift of a register, not of a
    /// subtraction behind the first beat's request mux.
    sdist: DFF<Bits<18>>,
    /// Sum of every byte so far, in natural words.
    tacc: DFF<Bits<32>>,
    /// The host's bytes at `l4_pos` (15:8) and `l4_pos + 1` (7:0), and the
    /// word at `ip_pos`, captured as they go by: the whole-frame sum is taken
    /// from the host's bytes and corrected for the writes at the end.
    l4old: DFF<Bits<16>>,
    ipold: DFF<Bits<16>>,
    // ---- Stage F: one frame's raw results, the cycle after its last beat ----
    f_valid: DFF<Bit>,
    /// Worked out from the last beat so that stage F starts from registers:
    /// `csum_start + csum_offset` (mod 2^16) and `csum_ok`.
    f_l4p: DFF<Bits<16>>,
    f_cok: DFF<Bit>,
    /// The L4 write covers the IPv4 checksum field's high / low byte (the
    /// field is at 24, 28 tagged: a write at 23 or 24 / 24 or 25; tagged
    /// 27 or 28 / 28 or 29).
    f_ovhi: DFF<Bit>,
    f_ovlo: DFF<Bit>,
    /// The frame is tagged (a TPID and at least 18 bytes), and it has an
    /// IPv4 header (type, version, IHL, and length at least L3 + 20 and
    /// L3 + 4 IHL): judged with the last beat, so that stage F picks the
    /// writes' correction terms straight from registers.
    f_vlan: DFF<Bit>,
    f_iok: DFF<Bit>,
    f_req: DFF<TxOffloadRequest>,
    f_lsum: DFF<Bits<32>>,
    f_isum: DFF<Bits<32>>,
    f_tsum: DFF<Bits<32>>,
    f_l4old: DFF<Bits<16>>,
    f_ipold: DFF<Bits<16>>,
    // ---- Stage G: the results but the inner sum, whose seven corrections
    // and the host's sum are here added in pairs ----
    g_valid: DFF<Bit>,
    g_cok: DFF<Bit>,
    g_iok: DFF<Bit>,
    g_patch: DFF<ChecksumPatch>,
    g_pair: [DFF<Bits<32>>; 4],
    // ---- Output registers ----
    done_r: DFF<Bit>,
    csum_ok_r: DFF<Bit>,
    ip_ok_r: DFF<Bit>,
    patch_r: DFF<ChecksumPatch>,
    inner_sum_r: DFF<Bits<16>>,
    // ---- Locals ----
    req_now: Signal<Local, TxOffloadRequest>,
    start_now: Signal<Local, Bits<16>>,
    kmask: Signal<Local, Bits<64>>,
    /// This beat's lanes at or after csum_start, those present, and the
    /// two as a byte mask.
    smask: Signal<Local, Bits<8>>,
    lanes: Signal<Local, Bits<8>>,
    lmask: Signal<Local, Bits<64>>,
    npos: Signal<Local, Bits<16>>,
    nsmask: Signal<Local, Bits<8>>,
    /// On a first beat: the next beat's lanes, from the port's csum_start.
    fsmask: Signal<Local, Bits<8>>,
    bm: Signal<Local, Bits<64>>,
    lm: Signal<Local, Bits<64>>,
    v0: Signal<Local, Bits<32>>,
    v1: Signal<Local, Bits<32>>,
    v2: Signal<Local, Bits<32>>,
    v3: Signal<Local, Bits<32>>,
    nbytes: Signal<Local, Bits<16>>,
    len_now: Signal<Local, Bits<16>>,
    /// The IPv4 header's length from the IHL as of the beat before
    /// (`verihl_r`), not from this beat's bytes.
    hdr_len_prev: Signal<Local, Bits<16>>,
    /// What stage F's flags are made of, as of this beat.
    vlan_now: Signal<Local, Bit>,
    ihl4_now: Signal<Local, Bits<16>>,
    ilen_now: Signal<Local, Bit>,
    iok_now: Signal<Local, Bit>,
    ovhi_now: Signal<Local, Bit>,
    ovlo_now: Signal<Local, Bit>,
    w0: Signal<Local, Bits<32>>,
    w1: Signal<Local, Bits<32>>,
    w2: Signal<Local, Bits<32>>,
    w3: Signal<Local, Bits<32>>,
    lsum: Signal<Local, Bits<32>>,
    lacc_now: Signal<Local, Bits<32>>,
    tpid_now: Signal<Local, Bit>,
    etype_now: Signal<Local, Bits<16>>,
    verihl_now: Signal<Local, Bits<8>>,
    l3_now: Signal<Local, Bits<16>>,
    l4_now: Signal<Local, Bits<16>>,
    /// `l4_now` as of the beat before.
    l4_r: DFF<Bits<16>>,
    /// The beat's words 0 and 2 as they came (the type / TPID fields).
    rw0: Signal<Local, Bits<16>>,
    rw2: Signal<Local, Bits<16>>,
    cks_now: Signal<Local, Bits<16>>,
    /// Positions of the next beat's four words.
    p0: Signal<Local, Bits<16>>,
    p1: Signal<Local, Bits<16>>,
    p2: Signal<Local, Bits<16>>,
    p3: Signal<Local, Bits<16>>,
    isum: Signal<Local, Bits<32>>,
    /// The IPv4 header's words of this beat, each or zero.
    iw: [Signal<Local, Bits<32>>; 4],
    iacc_now: Signal<Local, Bits<32>>,
    l3_20: Signal<Local, Bits<16>>,
    nmask: [Signal<Local, Bit>; 4],
    tsum: Signal<Local, Bits<32>>,
    tacc_now: Signal<Local, Bits<32>>,
    l4p_now: Signal<Local, Bits<16>>,
    d0: Signal<Local, Bits<16>>,
    /// The next beat's `d0`.
    d0_r: DFF<Bits<16>>,
    /// The beat at position 8, 16, 24 (registered with the beat before).
    at8: DFF<Bit>,
    at16: DFF<Bit>,
    at24: DFF<Bit>,
    d1: Signal<Local, Bits<16>>,
    sh0: Signal<Local, Bits<64>>,
    sh1: Signal<Local, Bits<64>>,
    l4old_now: Signal<Local, Bits<16>>,
    ipold_now: Signal<Local, Bits<16>>,
    // ---- Stage F to stage G ----
    f_start: Signal<Local, Bits<16>>,
    l1: Signal<Local, Bits<32>>,
    l2: Signal<Local, Bits<32>>,
    lsw: Signal<Local, Bits<32>>,
    lval: Signal<Local, Bits<16>>,
    i1: Signal<Local, Bits<32>>,
    i2: Signal<Local, Bits<32>>,
    vlan: Signal<Local, Bit>,
    l3: Signal<Local, Bits<16>>,
    c_ok: Signal<Local, Bit>,
    i_ok: Signal<Local, Bit>,
    pt: Signal<Local, ChecksumPatch>,
    fl4p: Signal<Local, Bits<16>>,
    fipp: Signal<Local, Bits<16>>,
    ipval: Signal<Local, Bits<16>>,
    l4_oldc: Signal<Local, Bits<16>>,
    l4_sw: Signal<Local, Bit>,
    l4_clo: Signal<Local, Bits<16>>,
    l4_chi: Signal<Local, Bits<16>>,
    l4_nlo: Signal<Local, Bits<16>>,
    l4_nhi: Signal<Local, Bits<16>>,
    l4_oldn: Signal<Local, Bits<16>>,
    ip_hin: Signal<Local, Bits<16>>,
    ip_lon: Signal<Local, Bits<16>>,
    ip_hi_live: Signal<Local, Bit>,
    ov_hi: Signal<Local, Bit>,
    ov_lo: Signal<Local, Bit>,
    ip_lo_live: Signal<Local, Bit>,
    /// The corrections to the host's whole-frame sum, each or zero.
    cterm: [Signal<Local, Bits<32>>; 7],
    tadj: Signal<Local, Bits<32>>,
    t1: Signal<Local, Bits<32>>,
    t2: Signal<Local, Bits<32>>,
    lane_le: [Constant<Bits<64>>; 8],
    lane_index: [Constant<Bits<16>>; 8],
    /// `8 + i`: lane i's position in a frame's second beat.
    lane_index8: [Constant<Bits<16>>; 8],
    ff8: Constant<Bits<8>>,
    low16: Constant<Bits<32>>,
    low8: Constant<Bits<32>>,
    tpid: Constant<Bits<16>>,
    ethertype_ipv4: Constant<Bits<16>>,
    all16: Constant<Bits<16>>,
    hi8: Constant<Bits<16>>,
    lo8: Constant<Bits<16>>,
}

impl Default for TxChecksumTap {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            tdata: Default::default(),
            tkeep: Default::default(),
            tlast: Default::default(),
            beat: Default::default(),
            req: Default::default(),
            done: Default::default(),
            csum_ok: Default::default(),
            ip_ok: Default::default(),
            patch: Default::default(),
            inner_sum: Default::default(),
            in_frame: Default::default(),
            pos: Default::default(),
            req_r: Default::default(),
            tpid_r: Default::default(),
            etype_r: Default::default(),
            verihl_r: Default::default(),
            lacc: Default::default(),
            iacc: Default::default(),
            imask: Default::default(),
            smask_r: Default::default(),
            sdist: Default::default(),
            tacc: Default::default(),
            l4old: Default::default(),
            ipold: Default::default(),
            f_valid: Default::default(),
            f_l4p: Default::default(),
            f_cok: Default::default(),
            f_ovhi: Default::default(),
            f_ovlo: Default::default(),
            f_vlan: Default::default(),
            f_iok: Default::default(),
            f_req: Default::default(),
            f_lsum: Default::default(),
            f_isum: Default::default(),
            f_tsum: Default::default(),
            f_l4old: Default::default(),
            f_ipold: Default::default(),
            g_valid: Default::default(),
            g_cok: Default::default(),
            g_iok: Default::default(),
            g_patch: Default::default(),
            g_pair: Default::default(),
            done_r: Default::default(),
            csum_ok_r: Default::default(),
            ip_ok_r: Default::default(),
            patch_r: Default::default(),
            inner_sum_r: Default::default(),
            req_now: Default::default(),
            start_now: Default::default(),
            kmask: Default::default(),
            smask: Default::default(),
            lanes: Default::default(),
            lmask: Default::default(),
            npos: Default::default(),
            nsmask: Default::default(),
            fsmask: Default::default(),
            bm: Default::default(),
            lm: Default::default(),
            v0: Default::default(),
            v1: Default::default(),
            v2: Default::default(),
            v3: Default::default(),
            nbytes: Default::default(),
            len_now: Default::default(),
            hdr_len_prev: Default::default(),
            vlan_now: Default::default(),
            ihl4_now: Default::default(),
            ilen_now: Default::default(),
            iok_now: Default::default(),
            ovhi_now: Default::default(),
            ovlo_now: Default::default(),
            w0: Default::default(),
            w1: Default::default(),
            w2: Default::default(),
            w3: Default::default(),
            lsum: Default::default(),
            lacc_now: Default::default(),
            tpid_now: Default::default(),
            etype_now: Default::default(),
            verihl_now: Default::default(),
            l3_now: Default::default(),
            l4_now: Default::default(),
            l4_r: Default::default(),
            rw0: Default::default(),
            rw2: Default::default(),
            cks_now: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            isum: Default::default(),
            iw: Default::default(),
            iacc_now: Default::default(),
            l3_20: Default::default(),
            nmask: Default::default(),
            tsum: Default::default(),
            tacc_now: Default::default(),
            l4p_now: Default::default(),
            d0: Default::default(),
            d0_r: Default::default(),
            at8: Default::default(),
            at16: Default::default(),
            at24: Default::default(),
            d1: Default::default(),
            sh0: Default::default(),
            sh1: Default::default(),
            l4old_now: Default::default(),
            ipold_now: Default::default(),
            f_start: Default::default(),
            l1: Default::default(),
            l2: Default::default(),
            lsw: Default::default(),
            lval: Default::default(),
            i1: Default::default(),
            i2: Default::default(),
            vlan: Default::default(),
            l3: Default::default(),
            c_ok: Default::default(),
            i_ok: Default::default(),
            pt: Default::default(),
            fl4p: Default::default(),
            fipp: Default::default(),
            ipval: Default::default(),
            l4_oldc: Default::default(),
            l4_sw: Default::default(),
            l4_clo: Default::default(),
            l4_chi: Default::default(),
            l4_nlo: Default::default(),
            l4_nhi: Default::default(),
            l4_oldn: Default::default(),
            ip_hin: Default::default(),
            ip_lon: Default::default(),
            ip_hi_live: Default::default(),
            ov_hi: Default::default(),
            ov_lo: Default::default(),
            ip_lo_live: Default::default(),
            cterm: Default::default(),
            tadj: Default::default(),
            t1: Default::default(),
            t2: Default::default(),
            lane_le: std::array::from_fn(|i| Constant::new((0xffu64 << (8 * i)).to_bits())),
            lane_index: std::array::from_fn(|i| Constant::new((i as u64).to_bits())),
            lane_index8: std::array::from_fn(|i| Constant::new((8 + i as u64).to_bits())),
            ff8: Constant::new(0xffu64.to_bits()),
            low16: Constant::new(0xffffu64.to_bits()),
            low8: Constant::new(0xffu64.to_bits()),
            tpid: Constant::new(0x8100u64.to_bits()),
            ethertype_ipv4: Constant::new(0x0800u64.to_bits()),
            all16: Constant::new(0xffffu64.to_bits()),
            hi8: Constant::new(0xff00u64.to_bits()),
            lo8: Constant::new(0x00ffu64.to_bits()),
        }
    }
}

impl TxChecksumTap {
    /// The tap (it has no build parameters).
    pub fn new() -> Self {
        Self::default()
    }
}

impl Logic for TxChecksumTap {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            in_frame,
            pos,
            req_r,
            tpid_r,
            etype_r,
            verihl_r,
            lacc,
            iacc,
            smask_r,
            sdist,
            tacc,
            d0_r,
            l4_r,
            at8,
            at16,
            at24,
            l4old,
            ipold,
            f_valid,
            f_l4p,
            f_cok,
            f_ovhi,
            f_ovlo,
            f_vlan,
            f_iok,
            f_req,
            f_lsum,
            f_isum,
            f_tsum,
            f_l4old,
            f_ipold,
            g_valid,
            g_cok,
            g_iok,
            g_patch,
            done_r,
            csum_ok_r,
            ip_ok_r,
            patch_r,
            inner_sum_r
        );
        for k in 0..4 {
            self.imask[k].clock.next = self.clock.val();
            self.imask[k].d.next = self.imask[k].q.val();
            self.g_pair[k].clock.next = self.clock.val();
            self.g_pair[k].d.next = self.g_pair[k].q.val();
        }
        self.done.next = self.done_r.q.val();
        self.csum_ok.next = self.csum_ok_r.q.val();
        self.ip_ok.next = self.ip_ok_r.q.val();
        self.patch.next = self.patch_r.q.val();
        self.inner_sum.next = self.inner_sum_r.q.val();

        // ---- The request: from the port on the first beat, then held ----
        self.req_now.next = self.req_r.q.val();
        if !self.in_frame.q.val() {
            self.req_now.next = self.req.val();
        }
        self.start_now.next = self.req_now.val().csum_start;

        // ---- The beat, absent bytes and bytes before csum_start zeroed ----
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
        // Lanes at positions pos + i >= csum_start: all, none, or i >= lead.
        // Registered a beat ahead; a first beat (pos 0) works it out from
        // the port's csum_start alone, a compare per lane. Lane by lane, so
        // the pick between the two is one LUT with the lane's keep bit, not
        // a 64-bit shift in front of the adders.
        self.smask.next = 0.into();
        for i in 0..8 {
            self.smask.next = self.smask.val().replace_bit(
                i,
                (self.in_frame.q.val() & self.smask_r.q.val().get_bit(i))
                    | (!self.in_frame.q.val()
                        & (self.req.val().csum_start <= self.lane_index[i].val())),
            );
        }
        self.lanes.next = self.smask.val() & self.tkeep.val();
        self.lmask.next = 0.into();
        for i in 0..8 {
            if self.lanes.val().get_bit(i) {
                self.lmask.next = self.lmask.val() | self.lane_le[i].val();
            }
        }
        self.npos.next = self.pos.q.val() + 8;
        // The next beat's lanes from `sdist` (csum_start - its position):
        // all at or below 0, none at 8 or more, else lanes >= sdist. On a
        // first beat, from the port: lane i of beat 1 is at 8 + i.
        self.nsmask.next = 0.into();
        if self.sdist.q.val().get_bit(17) | (self.sdist.q.val() == 0) {
            self.nsmask.next = self.ff8.val();
        } else if self.sdist.q.val() < 8 {
            self.nsmask.next = self.ff8.val() << bit_cast::<3, 18>(self.sdist.q.val());
        }
        self.fsmask.next = 0.into();
        for i in 0..8 {
            self.fsmask.next = self
                .fsmask
                .val()
                .replace_bit(i, self.req.val().csum_start <= self.lane_index8[i].val());
        }
        if !self.in_frame.q.val() {
            self.nsmask.next = self.fsmask.val();
        }
        self.bm.next = self.tdata.val() & self.kmask.val();
        // Natural big-endian words: lane 2k is the high byte.
        self.w0.next = (bit_cast::<32, 8>(self.bm.val().get_bits::<8>(0)) << 8)
            | bit_cast::<32, 8>(self.bm.val().get_bits::<8>(8));
        self.w1.next = (bit_cast::<32, 8>(self.bm.val().get_bits::<8>(16)) << 8)
            | bit_cast::<32, 8>(self.bm.val().get_bits::<8>(24));
        self.w2.next = (bit_cast::<32, 8>(self.bm.val().get_bits::<8>(32)) << 8)
            | bit_cast::<32, 8>(self.bm.val().get_bits::<8>(40));
        self.w3.next = (bit_cast::<32, 8>(self.bm.val().get_bits::<8>(48)) << 8)
            | bit_cast::<32, 8>(self.bm.val().get_bits::<8>(56));
        // The same words for the L4 sum, bytes before csum_start zeroed.
        self.lm.next = self.tdata.val() & self.lmask.val();
        self.v0.next = (bit_cast::<32, 8>(self.lm.val().get_bits::<8>(0)) << 8)
            | bit_cast::<32, 8>(self.lm.val().get_bits::<8>(8));
        self.v1.next = (bit_cast::<32, 8>(self.lm.val().get_bits::<8>(16)) << 8)
            | bit_cast::<32, 8>(self.lm.val().get_bits::<8>(24));
        self.v2.next = (bit_cast::<32, 8>(self.lm.val().get_bits::<8>(32)) << 8)
            | bit_cast::<32, 8>(self.lm.val().get_bits::<8>(40));
        self.v3.next = (bit_cast::<32, 8>(self.lm.val().get_bits::<8>(48)) << 8)
            | bit_cast::<32, 8>(self.lm.val().get_bits::<8>(56));
        self.lsum.next = (self.v0.val() + self.v1.val()) + (self.v2.val() + self.v3.val());
        self.lacc_now.next = self.lacc.q.val() + self.lsum.val();

        // ---- The IPv4 header: L3, type and IHL as they become known ----
        self.rw0.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(0)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(8));
        self.rw2.next = (bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(32)) << 8)
            | bit_cast::<16, 8>(self.tdata.val().get_bits::<8>(40));
        self.tpid_now.next = self.tpid_r.q.val() & self.in_frame.q.val();
        self.etype_now.next = self.etype_r.q.val();
        self.verihl_now.next = self.verihl_r.q.val();
        if !self.in_frame.q.val() {
            self.etype_now.next = 0.into();
            self.verihl_now.next = 0.into();
        }
        // (From the beat as it came, not `bm`: a byte that is not there
        // makes the frame too short for an IPv4 header, and `ip_ok` false,
        // whatever it held; this keeps `tkeep` out of the header masks.)
        if self.at8.q.val() {
            self.tpid_now.next = self.rw2.val() == self.tpid.val();
            self.etype_now.next = self.rw2.val();
            if !self.tpid_now.val() {
                self.verihl_now.next = self.tdata.val().get_bits::<8>(48);
            }
        }
        if self.at16.q.val() & self.tpid_now.val() {
            self.etype_now.next = self.rw0.val();
            self.verihl_now.next = self.tdata.val().get_bits::<8>(16);
        }
        self.l3_now.next = 14.into();
        if self.tpid_now.val() {
            self.l3_now.next = 18.into();
        }
        self.l4_now.next =
            self.l3_now.val() + (bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_now.val())) << 2);
        self.cks_now.next = self.l3_now.val() + 10;
        // The header's words are those in [L3, L4) but the checksum field.
        // Their mask is registered a beat ahead, from L3 and L4 as known
        // then: a valid header has L4 >= L3 + 20, so words before L3 + 20
        // are the header's whatever the IHL, and those after come two
        // beats after the IHL (a frame that breaks this has no valid IPv4
        // header, and `ip_ok` is false from its exactly captured fields).
        // The one word whose place depends on its own beat is byte 14's,
        // the header's first unless bytes 12-13 of the same beat are a tag.
        // L4 itself comes from a register: the beat that carries the IHL
        // sets the mask of a beat still short of L3 + 20, for which the
        // IHL does not count, so L4 as of the beat before will do.
        self.iw[0].next = 0.into();
        if self.imask[0].q.val() {
            self.iw[0].next = self.w0.val();
        }
        self.iw[1].next = 0.into();
        if self.imask[1].q.val() {
            self.iw[1].next = self.w1.val();
        }
        self.iw[2].next = 0.into();
        if self.imask[2].q.val() {
            self.iw[2].next = self.w2.val();
        }
        self.iw[3].next = 0.into();
        if self.imask[3].q.val() & !(self.at8.q.val() & self.tpid_now.val()) {
            self.iw[3].next = self.w3.val();
        }
        self.p0.next = self.npos.val();
        self.p1.next = self.pos.q.val() + 10;
        self.p2.next = self.pos.q.val() + 12;
        self.p3.next = self.pos.q.val() + 14;
        self.l3_20.next = self.l3_now.val() + 20;
        self.nmask[0].next = (self.p0.val() >= self.l3_now.val())
            & ((self.p0.val() < self.l3_20.val()) | (self.p0.val() < self.l4_r.q.val()))
            & (self.p0.val() != self.cks_now.val());
        self.nmask[1].next = (self.p1.val() >= self.l3_now.val())
            & ((self.p1.val() < self.l3_20.val()) | (self.p1.val() < self.l4_r.q.val()))
            & (self.p1.val() != self.cks_now.val());
        self.nmask[2].next = (self.p2.val() >= self.l3_now.val())
            & ((self.p2.val() < self.l3_20.val()) | (self.p2.val() < self.l4_r.q.val()))
            & (self.p2.val() != self.cks_now.val());
        self.nmask[3].next = (self.p3.val() >= self.l3_now.val())
            & ((self.p3.val() < self.l3_20.val()) | (self.p3.val() < self.l4_r.q.val()))
            & (self.p3.val() != self.cks_now.val());
        self.isum.next =
            (self.iw[0].val() + self.iw[1].val()) + (self.iw[2].val() + self.iw[3].val());
        self.iacc_now.next = self.iacc.q.val() + self.isum.val();

        // ---- The whole frame, and the bytes the writes will replace ----
        self.tsum.next = (self.w0.val() + self.w1.val()) + (self.w2.val() + self.w3.val());
        self.tacc_now.next = self.tacc.q.val() + self.tsum.val();
        // The L4 field's two bytes, each wherever it falls (the field may
        // straddle two beats). Lanes are picked by shifting the beat, only
        // for a lane that exists (a shift of 64 or more is not defined); the
        // amount is cut to 6 bits, all a lane needs.
        self.l4p_now.next = self.start_now.val() + self.req_now.val().csum_offset;
        // Its distance from this beat, kept a beat ahead (on a first beat
        // the position itself, from the port).
        self.d0.next = self.d0_r.q.val();
        if !self.in_frame.q.val() {
            self.d0.next = self.req.val().csum_start + self.req.val().csum_offset;
        }
        self.d1.next = self.d0.val() + 1;
        self.l4old_now.next = self.l4old.q.val();
        if !self.in_frame.q.val() {
            self.l4old_now.next = 0.into();
        }
        self.sh0.next = 0.into();
        if self.d0.val() < 8 {
            self.sh0.next = self.bm.val() >> bit_cast::<6, 16>(self.d0.val() << 3);
            self.l4old_now.next = (self.l4old_now.val() & self.lo8.val())
                | (bit_cast::<16, 8>(self.sh0.val().get_bits::<8>(0)) << 8);
        }
        self.sh1.next = 0.into();
        if self.d1.val() < 8 {
            self.sh1.next = self.bm.val() >> bit_cast::<6, 16>(self.d1.val() << 3);
            self.l4old_now.next = (self.l4old_now.val() & self.hi8.val())
                | bit_cast::<16, 8>(self.sh1.val().get_bits::<8>(0));
        }
        // The IPv4 checksum field (24 or 28) is in beat 3 either way.
        self.ipold_now.next = self.ipold.q.val();
        if !self.in_frame.q.val() {
            self.ipold_now.next = 0.into();
        }
        if self.at24.q.val() {
            self.ipold_now.next = bit_cast::<16, 32>(self.w0.val());
            if self.tpid_now.val() {
                self.ipold_now.next = bit_cast::<16, 32>(self.w2.val());
            }
        }

        // ---- The frame's length checks, registered with its last beat ----
        self.len_now.next = self.pos.q.val() + self.nbytes.val();
        self.hdr_len_prev.next = bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_r.q.val())) << 2;
        // Whether the frame is tagged and has an IPv4 header (length at
        // least L3 + 20 and L3 + 4 IHL; the IHL as of the beat before: a
        // frame that ends in the IHL's beat is too short for `ip_ok`
        // whatever this says), and which IPv4 checksum bytes the L4 write
        // covers; registered with the last beat.
        self.vlan_now.next = self.tpid_now.val() & (self.len_now.val() >= 18);
        self.ihl4_now.next = bit_cast::<16, 4>(bit_cast::<4, 8>(self.verihl_now.val())) << 2;
        self.ilen_now.next =
            (self.len_now.val() >= 34) & (self.len_now.val() >= self.hdr_len_prev.val() + 14);
        if self.vlan_now.val() {
            self.ilen_now.next =
                (self.len_now.val() >= 38) & (self.len_now.val() >= self.hdr_len_prev.val() + 18);
        }
        self.iok_now.next = (self.etype_now.val() == self.ethertype_ipv4.val())
            & ((self.verihl_now.val() >> 4) == 4)
            & (self.ihl4_now.val() >= 20)
            & self.ilen_now.val();
        self.ovhi_now.next = (self.l4p_now.val() == 23) | (self.l4p_now.val() == 24);
        self.ovlo_now.next = (self.l4p_now.val() == 24) | (self.l4p_now.val() == 25);
        if self.vlan_now.val() {
            self.ovhi_now.next = (self.l4p_now.val() == 27) | (self.l4p_now.val() == 28);
            self.ovlo_now.next = (self.l4p_now.val() == 28) | (self.l4p_now.val() == 29);
        }

        // ---- Taking the beat ----
        self.f_valid.d.next = false;
        if self.beat.val() {
            self.in_frame.d.next = !self.tlast.val();
            self.pos.d.next = self.pos.q.val() + 8;
            self.req_r.d.next = self.req_now.val();
            self.tpid_r.d.next = self.tpid_now.val();
            self.etype_r.d.next = self.etype_now.val();
            self.verihl_r.d.next = self.verihl_now.val();
            self.lacc.d.next = self.lacc_now.val();
            self.iacc.d.next = self.iacc_now.val();
            self.smask_r.d.next = self.nsmask.val();
            self.sdist.d.next = self.sdist.q.val() - 8;
            if !self.in_frame.q.val() {
                self.sdist.d.next = bit_cast::<18, 16>(self.req.val().csum_start) - 16;
            }
            for k in 0..4 {
                self.imask[k].d.next = self.nmask[k].val() & !self.tlast.val();
            }
            self.tacc.d.next = self.tacc_now.val();
            self.l4_r.d.next = self.l4_now.val();
            self.d0_r.d.next = self.d0.val() - 8;
            self.at8.d.next = !self.tlast.val() & !self.in_frame.q.val();
            self.at16.d.next = !self.tlast.val() & self.at8.q.val();
            self.at24.d.next = !self.tlast.val() & self.at16.q.val();
            self.l4old.d.next = self.l4old_now.val();
            self.ipold.d.next = self.ipold_now.val();
            if self.tlast.val() {
                // The sums restart from 0 with the next frame's first beat
                // (a clear here, not a mux after the adder on that beat).
                self.lacc.d.next = 0.into();
                self.iacc.d.next = 0.into();
                self.tacc.d.next = 0.into();
                self.pos.d.next = 0.into();
                self.f_valid.d.next = true;
                self.f_l4p.d.next = self.l4p_now.val();
                self.f_ovhi.d.next = self.ovhi_now.val();
                self.f_ovlo.d.next = self.ovlo_now.val();
                self.f_vlan.d.next = self.vlan_now.val();
                self.f_iok.d.next = self.iok_now.val();
                self.f_cok.d.next = (bit_cast::<18, 16>(self.start_now.val())
                    + bit_cast::<18, 16>(self.req_now.val().csum_offset)
                    + 2)
                    <= bit_cast::<18, 16>(self.len_now.val());
                self.f_req.d.next = self.req_now.val();
                self.f_lsum.d.next = self.lacc_now.val();
                self.f_isum.d.next = self.iacc_now.val();
                self.f_tsum.d.next = self.tacc_now.val();
                self.f_l4old.d.next = self.l4old_now.val();
                self.f_ipold.d.next = self.ipold_now.val();
            }
        }

        // ---- Stage F: folds, complements, checks ----
        self.f_start.next = self.f_req.q.val().csum_start;
        self.l1.next = (self.f_lsum.q.val() & self.low16.val()) + (self.f_lsum.q.val() >> 16);
        self.l2.next = (self.l1.val() & self.low16.val()) + (self.l1.val() >> 16);
        // An odd csum_start: the natural-word sum is the wanted one swapped.
        self.lsw.next = self.l2.val();
        if self.f_start.val().get_bit(0) {
            self.lsw.next = ((self.l2.val() & self.low8.val()) << 8) | (self.l2.val() >> 8);
        }
        self.lval.next = !bit_cast::<16, 32>(self.lsw.val());
        if self.lval.val() == 0 {
            self.lval.next = self.all16.val();
        }
        self.i1.next = (self.f_isum.q.val() & self.low16.val()) + (self.f_isum.q.val() >> 16);
        self.i2.next = (self.i1.val() & self.low16.val()) + (self.i1.val() >> 16);
        self.vlan.next = self.f_vlan.q.val();
        self.l3.next = 14.into();
        if self.vlan.val() {
            self.l3.next = 18.into();
        }
        self.c_ok.next = self.f_cok.q.val();
        self.i_ok.next = self.f_iok.q.val();
        self.pt.next.l4_en = self.f_req.q.val().csum & self.c_ok.val();
        self.fl4p.next = self.f_l4p.q.val();
        self.fipp.next = self.l3.val() + 10;
        self.ipval.next = !bit_cast::<16, 32>(self.i2.val());
        self.pt.next.l4_pos = self.fl4p.val();
        self.pt.next.l4_value = self.lval.val();
        self.pt.next.ip_en = self.f_req.q.val().ip_csum & self.i_ok.val();
        self.pt.next.ip_pos = self.fipp.val();
        self.pt.next.ip_value = self.ipval.val();

        // ---- The frame as sent: the host's sum, old bytes out, new in ----
        // (ones' complement: adding ~x takes x away). The L4 field at an odd
        // position puts its first byte low in a word and its second high.
        self.l4_oldc.next = self.f_l4old.q.val();
        if self.fl4p.val().get_bit(0) {
            self.l4_oldc.next =
                ((self.f_l4old.q.val() & self.lo8.val()) << 8) | (self.f_l4old.q.val() >> 8);
        }
        // The new L4 bytes are `l4_value`, ~fold(L) (swapped for an odd
        // csum_start), swapped again at an odd position. In ones' complement
        // ~fold(L) is ~L_lo + ~L_hi, and a byte swap (x 2^8 mod 0xffff)
        // distributes over a sum, so the two halves go into the sum as they
        // are, without waiting for the fold (`l4_value`'s 0 sent as 0xffff
        // is the same zero).
        self.l4_sw.next = self.f_start.val().get_bit(0) ^ self.fl4p.val().get_bit(0);
        self.l4_clo.next = !bit_cast::<16, 32>(self.f_lsum.q.val());
        self.l4_chi.next = !bit_cast::<16, 32>(self.f_lsum.q.val() >> 16);
        self.l4_nlo.next = self.l4_clo.val();
        self.l4_nhi.next = self.l4_chi.val();
        if self.l4_sw.val() {
            self.l4_nlo.next =
                ((self.l4_clo.val() & self.lo8.val()) << 8) | (self.l4_clo.val() >> 8);
            self.l4_nhi.next =
                ((self.l4_chi.val() & self.lo8.val()) << 8) | (self.l4_chi.val() >> 8);
        }
        // An IPv4 byte the L4 write covers too is the L4 one's (it wins).
        // The field is at 24 (28 tagged): the L4 write covers its high
        // byte from 23 or 24 (27, 28), its low byte from 24 or 25 (28, 29).
        self.ov_hi.next = self.f_ovhi.q.val();
        self.ov_lo.next = self.f_ovlo.q.val();
        self.ip_hi_live.next = self.pt.val().ip_en & !(self.pt.val().l4_en & self.ov_hi.val());
        self.ip_lo_live.next = self.pt.val().ip_en & !(self.pt.val().l4_en & self.ov_lo.val());
        // Complemented at 16 bits first: in Verilog a `~` inside a 32-bit
        // sum would complement the zero-extended value.
        self.l4_oldn.next = !self.l4_oldc.val();
        self.ip_hin.next = !(self.f_ipold.q.val() & self.hi8.val());
        self.ip_lon.next = !(self.f_ipold.q.val() & self.lo8.val());
        // The corrections (at most seven 16-bit terms) are summed with the
        // host's sum as a tree: in a row they were the block's critical path.
        for k in 0..7 {
            self.cterm[k].next = 0.into();
        }
        if self.pt.val().l4_en {
            self.cterm[0].next = bit_cast::<32, 16>(self.l4_oldn.val());
            self.cterm[1].next = bit_cast::<32, 16>(self.l4_nlo.val());
            self.cterm[2].next = bit_cast::<32, 16>(self.l4_nhi.val());
        }
        if self.ip_hi_live.val() {
            self.cterm[3].next = bit_cast::<32, 16>(self.ip_hin.val());
            self.cterm[4].next = bit_cast::<32, 16>(self.ipval.val() & self.hi8.val());
        }
        if self.ip_lo_live.val() {
            self.cterm[5].next = bit_cast::<32, 16>(self.ip_lon.val());
            self.cterm[6].next = bit_cast::<32, 16>(self.ipval.val() & self.lo8.val());
        }
        self.g_valid.d.next = self.f_valid.q.val();
        if self.f_valid.q.val() {
            self.g_cok.d.next = self.c_ok.val();
            self.g_iok.d.next = self.i_ok.val();
            self.g_patch.d.next = self.pt.val();
            self.g_pair[0].d.next = self.f_tsum.q.val() + self.cterm[0].val();
            self.g_pair[1].d.next = self.cterm[1].val() + self.cterm[2].val();
            self.g_pair[2].d.next = self.cterm[3].val() + self.cterm[4].val();
            self.g_pair[3].d.next = self.cterm[5].val() + self.cterm[6].val();
        }

        // ---- Stage G to outputs: the inner sum's last adds and folds ----
        // (A 32-bit sum of one 32-bit and six 16-bit terms cannot carry out
        // of 32 bits for a frame of at most 65535 bytes: the host's sum is
        // under 2^31.)
        self.tadj.next = (self.g_pair[0].q.val() + self.g_pair[1].q.val())
            + (self.g_pair[2].q.val() + self.g_pair[3].q.val());
        self.t1.next = (self.tadj.val() & self.low16.val()) + (self.tadj.val() >> 16);
        self.t2.next = (self.t1.val() & self.low16.val()) + (self.t1.val() >> 16);
        self.done_r.d.next = self.g_valid.q.val();
        if self.g_valid.q.val() {
            self.csum_ok_r.d.next = self.g_cok.q.val();
            self.ip_ok_r.d.next = self.g_iok.q.val();
            self.patch_r.d.next = self.g_patch.q.val();
            self.inner_sum_r.d.next = bit_cast::<16, 32>(self.t2.val());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_checksum_tap_is_synthesizable() {
        let mut uut = TxChecksumTap::default();
        uut.connect_all();
        yosys_validate("tx_checksum_tap", &generate_verilog(&uut)).unwrap();
    }
}
