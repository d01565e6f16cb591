//! TSO segmenter: cuts a host's whole TCP/IPv4 frame into MSS-sized
//! segments on the way out of the TX buffer (`docs/tx-offload.md`, "TCP
//! segmentation"), at one output beat per clock.
//!
//! Position: `TX buffer ─▶ TsoSegmenter ─▶ ChecksumInserter ─▶ Encapsulator`.
//! A frame whose descriptor has `tso.en` low passes unchanged. A TSO frame
//! (already validated by the ingress `TsoTap`, which also filled in its
//! `TsoInfo`) leaves as `n = max(1, ceil(P / mss))` frames: segment `k` is
//! a copy of the `H = tso.hdr_len` header bytes with the IPv4 total length
//! and identification, the TCP sequence number and the TCP flags changed,
//! then payload bytes `H + k*mss ..` of the input. The two checksums are
//! not written here: each segment's descriptor carries them in its `patch`
//! for the `ChecksumInserter`, together with the segment's `length` and
//! `inner_sum`, all on its first beat.
//!
//! The checksums come from sums the ingress took while the frame went into
//! the buffer, so nothing waits for the payload: the IPv4 one from
//! `tso.ip_base` plus the segment's total length and identification, the
//! TCP one from `tso.tcp_base`, the segment's sequence number, flags and
//! TCP length, and the segment's payload sum popped from the side FIFO
//! (`sum_valid` / `sum_value` / `sum_pop`, first-word-fall-through, one
//! entry per segment). The segment's `inner_sum` (for the outer UDP
//! checksum) uses that a correct IPv4 header sums to `0xffff` and a correct
//! TCP segment plus its pseudo-header sums to `0xffff`, so the segment
//! sums to `l2_sum - pseudo_k`, ones' complement, with
//! `pseudo_k = src + dst + 6 + tcp_len_k`. `tcp_base` has the addresses
//! mixed with the TCP header words, so the tap also records the address
//! sum alone, `TsoInfo.addr_sum`.
//!
//! Header storage: the header beats of segment 0 pass straight through and
//! are written to a 32 x 64 block RAM as they do (`H <= 138`: at most 18
//! beats); segments 1.. replay them from it. The RAM's registered read is
//! addressed with the next cycle's beat index, so the word is there when
//! the beat goes. RAM over a register file: 1152 flip-flops and an 18-way
//! 64-bit mux saved for one BRAM; reads never meet writes (segment 0 has at
//! least `mss >= 64` payload bytes after its header whenever there is a
//! segment 1 to replay for).
//!
//! Payload realignment: output byte `j >= H` of segment `k` is input byte
//! `j + k*mss`. The output beat is taken from a 16-byte window, the beat on
//! `s_axis` over the previous input beat (`res`), rotated by
//! `dd = (opos - ipos + 8) mod 16` bytes, where `opos` is the input
//! position of the output beat's lane 0 (`8t + k*mss`) and `ipos` the
//! position of the beat on `s_axis`. The input beat that straddles a
//! segment boundary feeds the end of segment `k` and, from `res`, the
//! start of segment `k + 1`. A beat whose bytes are all in `res` (the end
//! of a segment) takes nothing from the input.
//!
//! ```text
//!  segment k, H = 8*hb + h:
//!  out beat 0 .. hb-1 | header (RAM; the input for k = 0); s_axis waits (k > 0)
//!  out beat hb        | lanes 0..h-1 header | lanes h..7 bytes H+k*mss .. (window)
//!  out beat hb+1 ..   | 8 bytes from H+k*mss+8-h on (window)
//!
//!  window byte | 15 ............ 8 | 7 ............. 0 |
//!              | s_axis (at ipos)  | res (at ipos - 8) |
//!  out lane l  = window byte (l + dd) mod 16: a shift of dd in 0..=8 lanes,
//!                or, for the shared header beat only, a wrap in the header
//!                lanes l < h, which the header overwrites
//! ```
//!
//! Timing: a beat is produced in the cycle its input beat (if it needs one)
//! is taken, into a two-entry `SkidBuffer`, so latency is one cycle from
//! the frame's first input beat to its first output beat, every output
//! comes from a flip-flop and `m_axis.tready` never reaches
//! `s_axis.tready` combinationally. Without back-pressure the output moves
//! a beat every cycle the input has one, across segments and frames: while
//! segment `k > 0`'s header replays the input waits instead, `H / 8`
//! cycles (rounded down), one more when the header's last beat takes its
//! payload bytes from `res` alone. For `H = 54` (6 header beats and one
//! shared), `mss = 64`, `P = 128`, then a frame G (`sim/tests/tso_segmenter.rs`
//! checks this timeline):
//!
//! ```text
//!  cycle  | 0  | 1  | .. | 14  | 15  | 16 | .. | 21 | 22 | 23 | .. | 29  | 30  | 31
//!  s_axis | F0 | F1 | .. | F14 | --  | -- | .. | -- | F15| F16| .. | F22 | G0  | G1
//!  m_axis |    | A0 | .. | A13 | A14L| B0 | .. | B5 | B6 | B7 | .. | B13 | B14L| G0
//! ```
//!
//! `s_axis.tready` depends on the state, `tuser` (between frames) and
//! `sum_valid`, never on `s_axis.tvalid` or `m_axis.tready`.
//!
//! Frames are at most 65535 bytes, any `mss >= 64`. What the ingress
//! guarantees for a TSO frame is relied on, not checked: its length is
//! `hdr_len + payload_len` (its `tlast` is not looked at); `l3` is 14 or
//! 18 and `l4 - l3`, `hdr_len - l4` are whole words, so the total length
//! and identification sit in beat 2 and the sequence number halves never
//! straddle a beat; `hdr_len <= 138`. A segment whose payload sum is not
//! yet in the FIFO waits for it. Power-up state is idle, so the block
//! needs no reset input.

use crate::block_ram::BlockRam;
use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{ChecksumPatch, TsoInfo, TxDescriptor};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct TsoSegmenter {
    pub clock: Signal<In, Clock>,
    /// Frames from the TX buffer; the descriptor with each first beat.
    pub s_axis: StreamSink<TxDescriptor>,
    /// Head of the per-segment payload sum FIFO (first-word-fall-through).
    pub sum_valid: Signal<In, Bit>,
    pub sum_value: Signal<In, Bits<16>>,
    /// Pops the head: high for one cycle on each segment's first beat.
    pub sum_pop: Signal<Out, Bit>,
    /// Segments (and untouched frames); every output from a flip-flop.
    pub m_axis: StreamSource<TxDescriptor>,
    // ---- Per frame, held after its first beat ----
    busy: DFF<Bit>,
    desc: DFF<TxDescriptor>,
    // ---- Per segment ----
    /// Segment 0 (the header comes from the input).
    first: DFF<Bit>,
    /// Payload bytes from this segment's first on (`P - k*mss`).
    rem: DFF<Bits<16>>,
    idk: DFF<Bits<16>>,
    seqk: DFF<Bits<32>>,
    /// Input position of the segment's payload less `H` (`k*mss`).
    koff: DFF<Bits<17>>,
    /// Output beat index within the segment.
    t: DFF<Bits<16>>,
    // ---- Input side ----
    /// Input position of the beat on `s_axis` (8 x beats taken).
    ipos: DFF<Bits<17>>,
    /// The last input beat taken.
    res: DFF<Bits<64>>,
    hdr: BlockRam<Bits<64>, 5>,
    out: SkidBuffer<TxDescriptor>,
    // ---- Locals ----
    start: Signal<Local, Bit>,
    dnow: Signal<Local, TxDescriptor>,
    anow: Signal<Local, Bits<16>>,
    ti: Signal<Local, TsoInfo>,
    tso_now: Signal<Local, Bit>,
    mss: Signal<Local, Bits<16>>,
    l3: Signal<Local, Bits<16>>,
    l4: Signal<Local, Bits<16>>,
    hl: Signal<Local, Bits<16>>,
    hb: Signal<Local, Bits<16>>,
    hl_m1: Signal<Local, Bits<16>>,
    last_hdr: Signal<Local, Bits<16>>,
    rem_now: Signal<Local, Bits<16>>,
    id_now: Signal<Local, Bits<16>>,
    seq_now: Signal<Local, Bits<32>>,
    first_now: Signal<Local, Bit>,
    last_seg: Signal<Local, Bit>,
    pk: Signal<Local, Bits<16>>,
    seg_len: Signal<Local, Bits<16>>,
    tl3: Signal<Local, Bits<16>>,
    tl4: Signal<Local, Bits<16>>,
    seg_m1: Signal<Local, Bits<16>>,
    last_t: Signal<Local, Bits<16>>,
    end_beat: Signal<Local, Bit>,
    opos: Signal<Local, Bits<17>>,
    seg_end: Signal<Local, Bits<17>>,
    lastb: Signal<Local, Bits<17>>,
    need: Signal<Local, Bit>,
    sum_ok: Signal<Local, Bit>,
    have: Signal<Local, Bit>,
    go: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    t_next: Signal<Local, Bits<16>>,
    we: Signal<Local, Bit>,
    din: Signal<Local, Bits<64>>,
    hsrc: Signal<Local, Bits<64>>,
    dd: Signal<Local, Bits<4>>,
    wa: Signal<Local, Bits<64>>,
    wb: Signal<Local, Bits<64>>,
    sh: Signal<Local, Bits<6>>,
    shb: Signal<Local, Bits<6>>,
    pay: Signal<Local, Bits<64>>,
    hsh: Signal<Local, Bits<6>>,
    hmask: Signal<Local, Bits<64>>,
    data: Signal<Local, Bits<64>>,
    flg: Signal<Local, Bits<8>>,
    p_tl: Signal<Local, Bits<16>>,
    p_s0: Signal<Local, Bits<16>>,
    p_s1: Signal<Local, Bits<16>>,
    p_fl: Signal<Local, Bits<16>>,
    sh_tl: Signal<Local, Bits<6>>,
    sh_s0: Signal<Local, Bits<6>>,
    sh_s1: Signal<Local, Bits<6>>,
    sh_fl: Signal<Local, Bits<6>>,
    v_tl: Signal<Local, Bits<64>>,
    v_s0: Signal<Local, Bits<64>>,
    v_s1: Signal<Local, Bits<64>>,
    v_fl: Signal<Local, Bits<64>>,
    nb: Signal<Local, Bits<4>>,
    keep: Signal<Local, Bits<8>>,
    ipx: Signal<Local, Bits<32>>,
    ipf: Signal<Local, Bits<32>>,
    ipg: Signal<Local, Bits<32>>,
    tcx: Signal<Local, Bits<32>>,
    tcf: Signal<Local, Bits<32>>,
    tcg: Signal<Local, Bits<32>>,
    l4v: Signal<Local, Bits<16>>,
    psx: Signal<Local, Bits<32>>,
    psf: Signal<Local, Bits<32>>,
    psg: Signal<Local, Bits<32>>,
    psn: Signal<Local, Bits<16>>,
    inx: Signal<Local, Bits<32>>,
    inf: Signal<Local, Bits<32>>,
    ing: Signal<Local, Bits<32>>,
    pt: Signal<Local, ChecksumPatch>,
    od: Signal<Local, TxDescriptor>,
    odata: Signal<Local, Bits<64>>,
    okeep: Signal<Local, Bits<8>>,
    olast: Signal<Local, Bit>,
    ones: Constant<Bits<64>>,
    m32: Constant<Bits<64>>,
    m16: Constant<Bits<64>>,
    m8: Constant<Bits<64>>,
    low16: Constant<Bits<32>>,
    k56: Constant<Bits<6>>,
    k8: Constant<Bits<4>>,
    ff8: Constant<Bits<8>>,
    not_fin_psh: Constant<Bits<8>>,
    not_cwr: Constant<Bits<8>>,
    all16: Constant<Bits<16>>,
}

impl Default for TsoSegmenter {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            sum_valid: Default::default(),
            sum_value: Default::default(),
            sum_pop: Default::default(),
            m_axis: Default::default(),
            busy: Default::default(),
            desc: Default::default(),
            first: Default::default(),
            rem: Default::default(),
            idk: Default::default(),
            seqk: Default::default(),
            koff: Default::default(),
            t: Default::default(),
            ipos: Default::default(),
            res: Default::default(),
            hdr: Default::default(),
            out: Default::default(),
            start: Default::default(),
            dnow: Default::default(),
            anow: Default::default(),
            ti: Default::default(),
            tso_now: Default::default(),
            mss: Default::default(),
            l3: Default::default(),
            l4: Default::default(),
            hl: Default::default(),
            hb: Default::default(),
            hl_m1: Default::default(),
            last_hdr: Default::default(),
            rem_now: Default::default(),
            id_now: Default::default(),
            seq_now: Default::default(),
            first_now: Default::default(),
            last_seg: Default::default(),
            pk: Default::default(),
            seg_len: Default::default(),
            tl3: Default::default(),
            tl4: Default::default(),
            seg_m1: Default::default(),
            last_t: Default::default(),
            end_beat: Default::default(),
            opos: Default::default(),
            seg_end: Default::default(),
            lastb: Default::default(),
            need: Default::default(),
            sum_ok: Default::default(),
            have: Default::default(),
            go: Default::default(),
            take: Default::default(),
            t_next: Default::default(),
            we: Default::default(),
            din: Default::default(),
            hsrc: Default::default(),
            dd: Default::default(),
            wa: Default::default(),
            wb: Default::default(),
            sh: Default::default(),
            shb: Default::default(),
            pay: Default::default(),
            hsh: Default::default(),
            hmask: Default::default(),
            data: Default::default(),
            flg: Default::default(),
            p_tl: Default::default(),
            p_s0: Default::default(),
            p_s1: Default::default(),
            p_fl: Default::default(),
            sh_tl: Default::default(),
            sh_s0: Default::default(),
            sh_s1: Default::default(),
            sh_fl: Default::default(),
            v_tl: Default::default(),
            v_s0: Default::default(),
            v_s1: Default::default(),
            v_fl: Default::default(),
            nb: Default::default(),
            keep: Default::default(),
            ipx: Default::default(),
            ipf: Default::default(),
            ipg: Default::default(),
            tcx: Default::default(),
            tcf: Default::default(),
            tcg: Default::default(),
            l4v: Default::default(),
            psx: Default::default(),
            psf: Default::default(),
            psg: Default::default(),
            psn: Default::default(),
            inx: Default::default(),
            inf: Default::default(),
            ing: Default::default(),
            pt: Default::default(),
            od: Default::default(),
            odata: Default::default(),
            okeep: Default::default(),
            olast: Default::default(),
            ones: Constant::new(u64::MAX.to_bits()),
            m32: Constant::new(0xffff_ffffu64.to_bits()),
            m16: Constant::new(0xffffu64.to_bits()),
            m8: Constant::new(0xffu64.to_bits()),
            low16: Constant::new(0xffffu64.to_bits()),
            k56: Constant::new(56u64.to_bits()),
            k8: Constant::new(8u64.to_bits()),
            ff8: Constant::new(0xffu64.to_bits()),
            // FIN 0x01 and PSH 0x08 stay on the last segment only, CWR 0x80
            // on the first only.
            not_fin_psh: Constant::new(0xf6u64.to_bits()),
            not_cwr: Constant::new(0x7fu64.to_bits()),
            all16: Constant::new(0xffffu64.to_bits()),
        }
    }
}

impl TsoSegmenter {
    /// The segmenter (it has no build parameters).
    pub fn new() -> Self {
        Self::default()
    }

    /// Clock edges at which the header RAM was read at the address being
    /// written (undefined on hardware; the design never does it).
    pub fn collisions(&self) -> u64 {
        self.hdr.collisions()
    }
}

impl Logic for TsoSegmenter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, desc, first, rem, idk, seqk, koff, t, ipos, res);
        clock!(self, clock, hdr, out);
        StreamSource::<TxDescriptor>::link(&mut self.m_axis, &mut self.out.m_axis);

        // ---- The frame: from the input on its first beat, then held ----
        self.start.next = !self.busy.q.val();
        self.dnow.next = self.desc.q.val();
        if self.start.val() {
            self.dnow.next = self.s_axis.tuser.val();
        }
        self.ti.next = self.dnow.val().tso;
        self.anow.next = self.ti.val().addr_sum;
        self.tso_now.next = self.ti.val().en;
        self.mss.next = self.ti.val().mss;
        self.l3.next = bit_cast::<16, 8>(self.ti.val().l3);
        self.l4.next = bit_cast::<16, 8>(self.ti.val().l4);
        self.hl.next = bit_cast::<16, 8>(self.ti.val().hdr_len);
        self.hb.next = self.hl.val() >> 3;
        // Differences go through 16-bit Locals before any shift: the
        // Verilog would otherwise take them at 32 bits (junk inputs reach
        // the output registers, so Rust and Verilog must agree on them too).
        self.hl_m1.next = self.hl.val() - 1;
        self.last_hdr.next = self.hl_m1.val() >> 3;

        // ---- The segment ----
        self.rem_now.next = self.rem.q.val();
        self.id_now.next = self.idk.q.val();
        self.seq_now.next = self.seqk.q.val();
        self.first_now.next = self.first.q.val();
        if self.start.val() {
            self.rem_now.next = self.ti.val().payload_len;
            self.id_now.next = self.ti.val().ip_id;
            self.seq_now.next = self.ti.val().seq;
            self.first_now.next = true;
        }
        self.last_seg.next = self.rem_now.val() <= self.mss.val();
        self.pk.next = self.mss.val();
        if self.last_seg.val() {
            self.pk.next = self.rem_now.val();
        }
        self.seg_len.next = self.hl.val() + self.pk.val();
        self.tl3.next = self.seg_len.val() - self.l3.val();
        self.tl4.next = self.seg_len.val() - self.l4.val();
        self.seg_m1.next = self.seg_len.val() - 1;
        self.last_t.next = self.seg_m1.val() >> 3;
        self.end_beat.next = self.t.q.val() == self.last_t.val();

        // ---- Does this beat take an input beat? ----
        // The last input byte the beat needs; it is in `res` or on s_axis.
        self.opos.next = (bit_cast::<17, 16>(self.t.q.val()) << 3) + self.koff.q.val();
        self.seg_end.next = bit_cast::<17, 16>(self.seg_len.val()) + self.koff.q.val();
        self.lastb.next = self.opos.val() + 7;
        if self.end_beat.val() {
            self.lastb.next = self.seg_end.val() - 1;
        }
        self.need.next = true;
        if self.tso_now.val() & !self.first_now.val() {
            self.need.next =
                (self.t.q.val() >= self.hb.val()) & (self.lastb.val() >= self.ipos.q.val());
        }
        // A segment starts only with its payload sum at the FIFO's head.
        self.sum_ok.next = !(self.tso_now.val() & (self.t.q.val() == 0)) | self.sum_valid.val();
        self.have.next = (!self.need.val() | self.s_axis.tvalid.val()) & self.sum_ok.val();
        // Depends on state, tuser and the FIFO head, never on tvalid.
        self.s_axis.tready.next =
            self.out.s_axis.tready.val() & self.need.val() & self.sum_ok.val();
        self.go.next = self.have.val() & self.out.s_axis.tready.val();
        self.take.next = self.go.val() & self.need.val();
        self.sum_pop.next = self.go.val() & self.tso_now.val() & (self.t.q.val() == 0);

        // ---- Header storage: written by segment 0, replayed after ----
        self.t_next.next = self.t.q.val();
        if self.go.val() & self.tso_now.val() {
            self.t_next.next = self.t.q.val() + 1;
            if self.end_beat.val() {
                self.t_next.next = 0.into();
            }
        }
        self.din.next = self.s_axis.tdata.val();
        self.we.next = self.go.val()
            & self.tso_now.val()
            & self.first_now.val()
            & (self.t.q.val() <= self.last_hdr.val());
        self.hdr.write_address.next = bit_cast::<5, 16>(self.t.q.val());
        self.hdr.write_data.next = self.din.val();
        self.hdr.write_enable.next = self.we.val();
        self.hdr.read_address.next = bit_cast::<5, 16>(self.t_next.val());
        self.hdr.read_enable.next = !self.we.val();

        // ---- The beat: header, payload through the window, or both ----
        self.hsrc.next = self.hdr.read_data.val();
        if self.first_now.val() {
            self.hsrc.next = self.din.val();
        }
        self.dd.next = bit_cast::<4, 17>(self.opos.val() + 8 - self.ipos.q.val());
        self.wa.next = self.res.q.val();
        self.wb.next = self.din.val();
        if self.dd.val().get_bit(3) {
            self.wa.next = self.din.val();
            self.wb.next = self.res.q.val();
        }
        self.sh.next = bit_cast::<6, 3>(bit_cast::<3, 4>(self.dd.val())) << 3;
        self.shb.next = self.k56.val() - self.sh.val();
        // Two shifts below 64 each: `wb << (64 - sh)` without a shift by 64.
        self.pay.next = (self.wa.val() >> self.sh.val()) | ((self.wb.val() << 8) << self.shb.val());
        self.hsh.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.hl.val())) << 3;
        self.hmask.next = !(self.ones.val() << self.hsh.val());
        self.data.next = self.pay.val();
        if self.t.q.val() < self.hb.val() {
            self.data.next = self.hsrc.val();
        } else if self.t.q.val() == self.hb.val() {
            self.data.next =
                (self.hsrc.val() & self.hmask.val()) | (self.pay.val() & !self.hmask.val());
        }

        // ---- The changed header fields, big-endian, at their lanes ----
        self.flg.next = self.ti.val().flags;
        if !self.last_seg.val() {
            self.flg.next = self.flg.val() & self.not_fin_psh.val();
        }
        if !self.first_now.val() {
            self.flg.next = self.flg.val() & self.not_cwr.val();
        }
        // Total length and identification: 4 bytes at L3 + 2 (16 or 20, so
        // always within beat 2); the sequence number in two 16-bit halves
        // at even positions (never across a beat); the flags byte.
        self.p_tl.next = self.l3.val() + 2;
        self.p_s0.next = self.l4.val() + 4;
        self.p_s1.next = self.l4.val() + 6;
        self.p_fl.next = self.l4.val() + 13;
        self.sh_tl.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_tl.val())) << 3;
        self.sh_s0.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_s0.val())) << 3;
        self.sh_s1.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_s1.val())) << 3;
        self.sh_fl.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_fl.val())) << 3;
        self.v_tl.next = bit_cast::<64, 8>(self.tl3.val().get_bits::<8>(8))
            | (bit_cast::<64, 8>(self.tl3.val().get_bits::<8>(0)) << 8)
            | (bit_cast::<64, 8>(self.id_now.val().get_bits::<8>(8)) << 16)
            | (bit_cast::<64, 8>(self.id_now.val().get_bits::<8>(0)) << 24);
        self.v_s0.next = bit_cast::<64, 8>(self.seq_now.val().get_bits::<8>(24))
            | (bit_cast::<64, 8>(self.seq_now.val().get_bits::<8>(16)) << 8);
        self.v_s1.next = bit_cast::<64, 8>(self.seq_now.val().get_bits::<8>(8))
            | (bit_cast::<64, 8>(self.seq_now.val().get_bits::<8>(0)) << 8);
        self.v_fl.next = bit_cast::<64, 8>(self.flg.val());
        if (self.p_tl.val() >> 3) == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m32.val() << self.sh_tl.val()))
                | (self.v_tl.val() << self.sh_tl.val());
        }
        if (self.p_s0.val() >> 3) == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m16.val() << self.sh_s0.val()))
                | (self.v_s0.val() << self.sh_s0.val());
        }
        if (self.p_s1.val() >> 3) == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m16.val() << self.sh_s1.val()))
                | (self.v_s1.val() << self.sh_s1.val());
        }
        if (self.p_fl.val() >> 3) == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m8.val() << self.sh_fl.val()))
                | (self.v_fl.val() << self.sh_fl.val());
        }
        self.nb.next = bit_cast::<4, 16>(self.seg_len.val() - (self.t.q.val() << 3));
        self.keep.next = self.ff8.val();
        if self.end_beat.val() {
            self.keep.next = self.ff8.val() >> (self.k8.val() - self.nb.val());
        }

        // ---- The segment's checksums and inner sum ----
        self.ipx.next = bit_cast::<32, 16>(self.ti.val().ip_base)
            + bit_cast::<32, 16>(self.tl3.val())
            + bit_cast::<32, 16>(self.id_now.val());
        self.ipf.next = (self.ipx.val() & self.low16.val()) + (self.ipx.val() >> 16);
        self.ipg.next = (self.ipf.val() & self.low16.val()) + (self.ipf.val() >> 16);
        self.tcx.next = bit_cast::<32, 16>(self.ti.val().tcp_base)
            + bit_cast::<32, 16>(self.seq_now.val().get_bits::<16>(16))
            + bit_cast::<32, 16>(self.seq_now.val().get_bits::<16>(0))
            + bit_cast::<32, 8>(self.flg.val())
            + bit_cast::<32, 16>(self.tl4.val())
            + bit_cast::<32, 16>(self.sum_value.val());
        self.tcf.next = (self.tcx.val() & self.low16.val()) + (self.tcx.val() >> 16);
        self.tcg.next = (self.tcf.val() & self.low16.val()) + (self.tcf.val() >> 16);
        self.l4v.next = !bit_cast::<16, 32>(self.tcg.val());
        if self.l4v.val() == 0 {
            self.l4v.next = self.all16.val();
        }
        self.psx.next =
            bit_cast::<32, 16>(self.anow.val()) + 6 + bit_cast::<32, 16>(self.tl4.val());
        self.psf.next = (self.psx.val() & self.low16.val()) + (self.psx.val() >> 16);
        self.psg.next = (self.psf.val() & self.low16.val()) + (self.psf.val() >> 16);
        // The complement in a 16-bit Local: inline, Verilog would widen
        // its operand to 32 bits first.
        self.psn.next = !bit_cast::<16, 32>(self.psg.val());
        self.inx.next =
            bit_cast::<32, 16>(self.ti.val().l2_sum) + bit_cast::<32, 16>(self.psn.val());
        self.inf.next = (self.inx.val() & self.low16.val()) + (self.inx.val() >> 16);
        self.ing.next = (self.inf.val() & self.low16.val()) + (self.inf.val() >> 16);
        self.pt.next = self.dnow.val().patch;
        self.pt.next.ip_en = true;
        self.pt.next.ip_pos = self.l3.val() + 10;
        self.pt.next.ip_value = !bit_cast::<16, 32>(self.ipg.val());
        self.pt.next.l4_en = true;
        self.pt.next.l4_pos = self.l4.val() + 16;
        self.pt.next.l4_value = self.l4v.val();

        // ---- Out: a segment, or the input beat untouched ----
        self.od.next = self.s_axis.tuser.val();
        self.odata.next = self.din.val();
        self.okeep.next = self.s_axis.tkeep.val();
        self.olast.next = self.s_axis.tlast.val();
        if self.tso_now.val() {
            self.od.next = self.dnow.val();
            self.od.next.length = self.seg_len.val();
            self.od.next.inner_sum = bit_cast::<16, 32>(self.ing.val());
            self.od.next.patch = self.pt.val();
            self.odata.next = self.data.val();
            self.okeep.next = self.keep.val();
            self.olast.next = self.end_beat.val();
        }
        self.out.s_axis.tvalid.next = self.have.val();
        self.out.s_axis.tdata.next = self.odata.val();
        self.out.s_axis.tkeep.next = self.okeep.val();
        self.out.s_axis.tlast.next = self.olast.val();
        self.out.s_axis.tuser.next = self.od.val();

        // ---- State ----
        self.t.d.next = self.t_next.val();
        if self.go.val() {
            self.desc.d.next = self.dnow.val();
            if !self.tso_now.val() {
                self.busy.d.next = !self.s_axis.tlast.val();
            } else {
                self.busy.d.next = true;
                self.first.d.next = self.first_now.val();
                self.rem.d.next = self.rem_now.val();
                self.idk.d.next = self.id_now.val();
                self.seqk.d.next = self.seq_now.val();
                if self.take.val() {
                    self.ipos.d.next = self.ipos.q.val() + 8;
                    self.res.d.next = self.din.val();
                }
                if self.end_beat.val() {
                    self.first.d.next = false;
                    self.rem.d.next = self.rem_now.val() - self.mss.val();
                    self.idk.d.next = self.id_now.val() + 1;
                    self.seqk.d.next = self.seq_now.val() + bit_cast::<32, 16>(self.mss.val());
                    self.koff.d.next = self.koff.q.val() + bit_cast::<17, 16>(self.mss.val());
                    if self.last_seg.val() {
                        self.busy.d.next = false;
                        self.ipos.d.next = 0.into();
                        self.koff.d.next = 0.into();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tso_segmenter_is_synthesizable() {
        let mut uut = TsoSegmenter::default();
        uut.connect_all();
        yosys_validate("tso_segmenter", &generate_verilog(&uut)).unwrap();
    }
}
