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
//! Timing of the sums: a one-cycle chain from the segment's length through
//! the total and TCP lengths to sums of six 16-bit terms, each folded
//! twice, was the block's slowest path (42 MHz on the ECP5). So a
//! segment's values (length, beats, flags, IPv4 checksum, inner sum, TCP
//! checksum but the payload sum) sit in registers for the whole segment,
//! and its beats only add the payload sum at the FIFO's head. Those of
//! segment `k + 1` are worked out during segment `k` by a free-running
//! pipeline from segment `k`'s registers, which hold still through it:
//! five stages of at most one carry chain each (a ones'-complement add is
//! one chain: `a + b` and `a + b + 1 = a - !b` side by side, the carry of
//! the first picking), settled long before segment `k`'s last beat (a
//! segment with a next one is at least `H + mss >= 98` bytes, 13 beats).
//! Segment 0's values cannot wait: its first output beat is its first
//! input beat's. So the ingress works them out while the frame goes into
//! the buffer (`TsoFirstSegment`, from the same `TsoInfo`) and they come
//! with the descriptor (`tso_first`); the beat adds only the payload sum,
//! as for the other segments. (Worked out here from the first beat's
//! `TsoInfo`, they were the NIC's slowest path on the ECP5: 17.4 ns from
//! the TX buffer's metadata head, through sums of eight terms, to the
//! output register.) A TSO frame's first beat is never its segment's last
//! (`H >= 34`) and changes no header byte.
//!
//! Header storage: the header beats of segment 0 pass straight through and
//! are written to a 32 x 64 block RAM as they do (`H <= 138`: at most 18
//! beats); segments 1.. replay them from it. The RAM's registered read is
//! addressed with the next beat's index (`t + 1`, or 0 after a segment's
//! last) and enabled by this beat going, so the word is there when the
//! next beat goes and the address never waits for `go`. RAM over a
//! register file: 1152 flip-flops and an 18-way 64-bit mux saved for one
//! block RAM on the iCE40 (distributed RAM on the ECP5); reads never meet
//! writes (segment 0 has at least `mss >= 64` payload bytes after its
//! header whenever there is a segment 1 to replay for).
//!
//! Payload realignment: output byte `j >= H` of segment `k` is input byte
//! `j + k*mss`. The output beat is taken from a 16-byte window, the beat on
//! `s_axis` over the previous input beat (`res`), rotated by
//! `dd = (opos - ipos + 8) mod 16` bytes, where `opos` is the input
//! position of the output beat's lane 0 (`8t + k*mss`) and `ipos` the
//! position of the beat on `s_axis`. The input beat that straddles a
//! segment boundary feeds the end of segment `k` and, from `res`, the
//! start of segment `k + 1`. A beat whose bytes are all in `res` (the end
//! of a segment) takes nothing from the input. The block keeps only
//! `e = ipos - opos` (small, either sign) in a register: `dd = (8 - e) mod
//! 16`, and a beat takes an input beat when the last byte it needs is not
//! in `res`, `e <= 7` (`e <=` that byte's lane on a segment's last beat),
//! a few LUTs either way.
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
//! `s_axis.tready` depends on the state, `s_tso_en` (between frames) and
//! `sum_valid`, never on `s_axis.tvalid` or `m_axis.tready`. The
//! handshake and the clock enables read copies of their own of the
//! frame's state (`busy_c`, `tso_k`, `t_ge`), never the registers that
//! also select the data path's wide muxes.
//!
//! Frames are at most 65535 bytes, any `mss >= 64`. What the ingress
//! guarantees for a TSO frame is relied on, not checked: its length is
//! `hdr_len + payload_len` (its `tlast` is not looked at); `l3` is 14 or
//! 18 and `l4 - l3`, `hdr_len - l4` are whole words, so the total length
//! and identification sit in beat 2 and the sequence number halves never
//! straddle a beat; `hdr_len <= 138`; `tso_first` is segment 0's values
//! for the `TsoInfo` (`TsoFirstSegment`'s). A segment whose payload sum is not
//! yet in the FIFO waits for it. Power-up state is idle, so the block
//! needs no reset input.

use crate::block_ram::BlockRam;
use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{ChecksumPatch, TsoFirst, TsoInfo, TxDescriptor};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct TsoSegmenter {
    pub clock: Signal<In, Clock>,
    /// Frames from the TX buffer; the descriptor with each first beat.
    pub s_axis: StreamSink<TxDescriptor>,
    /// `s_axis.tuser.tso.en`, from a source of its own: the block's
    /// handshake waits on this bit alone of the descriptor, and in the NIC
    /// `tuser` is a 700-bit mux whose select's net is slow (the TX buffer's
    /// metadata ring pointer); the NIC drives this from the ring's slots
    /// through a pointer copy of its own. Read where `tuser` is, on a
    /// frame's first beat, and must equal `tuser.tso.en` there.
    pub s_tso_en: Signal<In, Bit>,
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
    /// Copies of `busy` and of the held `tso.en` for the handshake alone
    /// (`go` and the clock enables), loaded from `s_tso_en`: `busy` selects
    /// the 700-bit descriptor muxes and `tuser` comes through the TX
    /// buffer's ring mux, so either net in front of `go` cost 2.5-3 ns in
    /// the NIC. Their inputs differ from `busy`'s and `desc`'s, so yosys
    /// keeps them apart.
    busy_c: DFF<Bit>,
    tso_k: DFF<Bit>,
    /// The beat and the lane shift of each changed header field (total
    /// length and id, the sequence number's halves, the flags), worked out
    /// from the first beat's `TsoInfo` and registered with the frame: the
    /// fields are in beat 2 or later, and the adds stay off the data path.
    k_btl: DFF<Bits<16>>,
    k_bs0: DFF<Bits<16>>,
    k_bs1: DFF<Bits<16>>,
    k_bfl: DFF<Bits<16>>,
    k_shtl: DFF<Bits<6>>,
    k_shs0: DFF<Bits<6>>,
    k_shs1: DFF<Bits<6>>,
    k_shfl: DFF<Bits<6>>,
    // ---- Per segment ----
    /// Segment 0 (the header comes from the input).
    first: DFF<Bit>,
    /// Payload bytes from this segment's first on (`P - k*mss`).
    rem: DFF<Bits<16>>,
    idk: DFF<Bits<16>>,
    seqk: DFF<Bits<32>>,
    /// Output beat index within the segment.
    t: DFF<Bits<16>>,
    /// `t >= H / 8` (the beat is past the header's whole beats), kept with
    /// `t` so that `go` waits on no compare.
    t_ge: DFF<Bit>,
    // ---- Input side ----
    /// The last input beat taken.
    res: DFF<Bits<64>>,
    hdr: BlockRam<Bits<64>, 5>,
    out: SkidBuffer<TxDescriptor>,
    /// The segment is the frame's last.
    c_last: DFF<Bit>,
    /// The segment's length (`H + min(rem, mss)`).
    c_len: DFF<Bits<16>>,
    /// Index of the segment's last beat.
    c_lastt: DFF<Bits<16>>,
    /// Bytes in the segment's last beat, less one.
    c_r7: DFF<Bits<3>>,
    /// The beat is the segment's last (`t == c_lastt`).
    eb: DFF<Bit>,
    /// Beats left in the segment after this one (`c_lastt - t`).
    bl: DFF<Bits<16>>,
    /// `t != 0`.
    tn0: DFF<Bit>,
    /// Input position of the beat on `s_axis` less the output beat's lane 0:
    /// `8 x beats taken - (8t + k*mss)`, two's complement; small either way.
    e: DFF<Bits<17>>,
    /// How far lane 0 moves back at the segment's end: `mss - 8 c_lastt`.
    jmp: DFF<Bits<17>>,
    /// The segment's IPv4 total length.
    c_tl3: DFF<Bits<16>>,
    /// The segment's TCP flags.
    c_flg: DFF<Bits<8>>,
    /// The segment's IPv4 checksum.
    c_ipv: DFF<Bits<16>>,
    /// The segment's TCP checksum but the payload sum: a fold of the terms'
    /// complements, so adding the payload sum's complement gives the checksum.
    c_tcp: DFF<Bits<16>>,
    /// The segment's inner sum.
    c_inner: DFF<Bits<16>>,
    /// Next segment, one cycle after this one's state: `rem`, ...
    x_rem: DFF<Bits<16>>,
    x_id: DFF<Bits<16>>,
    x_seq: DFF<Bits<32>>,
    /// ... and the frame's `H - L3`, `H - L4`, `H - 1`, `addr_sum + 6`.
    f_c3: DFF<Bits<16>>,
    f_c4: DFF<Bits<16>>,
    f_hlm1: DFF<Bits<16>>,
    f_a6: DFF<Bits<16>>,
    /// Two cycles after: is it the last, its payload bytes, partial sums.
    y_last: DFF<Bit>,
    y_pk: DFF<Bits<16>>,
    y_ipid: DFF<Bits<16>>,
    y_seq: DFF<Bits<16>>,
    /// Three cycles after: lengths, flags, partial sums.
    z_len: DFF<Bits<16>>,
    z_lenm1: DFF<Bits<16>>,
    z_tl3: DFF<Bits<16>>,
    z_tl4: DFF<Bits<16>>,
    z_flg: DFF<Bits<8>>,
    z_tb: DFF<Bits<16>>,
    /// Four cycles after.
    n_ipv: DFF<Bits<16>>,
    w_ft: DFF<Bits<16>>,
    w_ps: DFF<Bits<16>>,
    n_lastt: DFF<Bits<16>>,
    n_lt0: DFF<Bit>,
    /// Five cycles after: the sums done.
    n_tcp: DFF<Bits<16>>,
    n_inner: DFF<Bits<16>>,
    // ---- Locals ----
    start: Signal<Local, Bit>,
    dnow: Signal<Local, TxDescriptor>,
    ti: Signal<Local, TsoInfo>,
    tso_now: Signal<Local, Bit>,
    /// The handshake's `start` and `tso_now`, from `busy_c`, `tso_k` and
    /// `s_tso_en`, and its end of segment.
    start_c: Signal<Local, Bit>,
    tso_c: Signal<Local, Bit>,
    end_c: Signal<Local, Bit>,
    dr: Signal<Local, TxDescriptor>,
    tr: Signal<Local, TsoInfo>,
    tso_r: Signal<Local, Bit>,
    mss_r: Signal<Local, Bits<16>>,
    l3_r: Signal<Local, Bits<16>>,
    l4_r: Signal<Local, Bits<16>>,
    hl_r: Signal<Local, Bits<16>>,
    hb_r: Signal<Local, Bits<16>>,
    hb_m1: Signal<Local, Bits<16>>,
    hl_m1_r: Signal<Local, Bits<16>>,
    last_hdr_r: Signal<Local, Bits<16>>,
    fl_r: Signal<Local, Bits<8>>,
    tu: Signal<Local, TxDescriptor>,
    ts: Signal<Local, TsoInfo>,
    s0: Signal<Local, TsoFirst>,
    flg16_r: Signal<Local, Bits<16>>,
    pl_s: Signal<Local, Bits<16>>,
    l3_s: Signal<Local, Bits<16>>,
    l4_s: Signal<Local, Bits<16>>,
    id_s: Signal<Local, Bits<16>>,
    seq_s: Signal<Local, Bits<32>>,
    six: Signal<Local, Bits<16>>,
    inv_xseqh: Signal<Local, Bits<16>>,
    inv_xseql: Signal<Local, Bits<16>>,
    inv_ftcb: Signal<Local, Bits<16>>,
    inv_tl4: Signal<Local, Bits<16>>,
    inv_flg: Signal<Local, Bits<16>>,
    inv_ssum: Signal<Local, Bits<16>>,
    last_s: Signal<Local, Bit>,
    len_s: Signal<Local, Bits<16>>,
    lm1_s: Signal<Local, Bits<16>>,
    tl3_s: Signal<Local, Bits<16>>,
    flg_s: Signal<Local, Bits<8>>,
    ipv_s: Signal<Local, Bits<16>>,
    l4v_s: Signal<Local, Bits<16>>,
    inner_s: Signal<Local, Bits<16>>,
    tcp_s: Signal<Local, Bits<16>>,
    x_idn: Signal<Local, Bits<16>>,
    x_seqh: Signal<Local, Bits<16>>,
    x_seql: Signal<Local, Bits<16>>,
    f_as: Signal<Local, Bits<16>>,
    f_ipb: Signal<Local, Bits<16>>,
    f_tcb: Signal<Local, Bits<16>>,
    f_l2: Signal<Local, Bits<16>>,
    psn_n: Signal<Local, Bits<16>>,
    l4v_r: Signal<Local, Bits<16>>,
    flgz: Signal<Local, Bits<8>>,
    lm1z: Signal<Local, Bits<16>>,
    first_now: Signal<Local, Bit>,
    end_beat: Signal<Local, Bit>,
    e_sh: Signal<Local, Bits<17>>,
    e_hi: Signal<Local, Bits<13>>,
    e_lo: Signal<Local, Bits<3>>,
    e_lo4: Signal<Local, Bits<4>>,
    e_near: Signal<Local, Bit>,
    e_m8: Signal<Local, Bits<17>>,
    e_mj: Signal<Local, Bits<17>>,
    e_pj: Signal<Local, Bits<17>>,
    ltt_s: Signal<Local, Bits<16>>,
    need: Signal<Local, Bit>,
    sum_ok: Signal<Local, Bit>,
    have: Signal<Local, Bit>,
    go: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    t_next: Signal<Local, Bits<16>>,
    t_rd: Signal<Local, Bits<16>>,
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
    seq_r: Signal<Local, Bits<32>>,
    tl3_r: Signal<Local, Bits<16>>,
    id_r: Signal<Local, Bits<16>>,
    nb: Signal<Local, Bits<4>>,
    keep: Signal<Local, Bits<8>>,
    pt: Signal<Local, ChecksumPatch>,
    pts: Signal<Local, ChecksumPatch>,
    od: Signal<Local, TxDescriptor>,
    odata: Signal<Local, Bits<64>>,
    okeep: Signal<Local, Bits<8>>,
    olast: Signal<Local, Bit>,
    e_a6_r_s: Signal<Local, Bits<17>>,
    e_a6_r_n: Signal<Local, Bits<16>>,
    e_a6_r_p: Signal<Local, Bits<16>>,
    e_a6_r: Signal<Local, Bits<16>>,
    e_ipid_r_s: Signal<Local, Bits<17>>,
    e_ipid_r_n: Signal<Local, Bits<16>>,
    e_ipid_r_p: Signal<Local, Bits<16>>,
    e_ipid_r: Signal<Local, Bits<16>>,
    e_seq_r_s: Signal<Local, Bits<17>>,
    e_seq_r_n: Signal<Local, Bits<16>>,
    e_seq_r_p: Signal<Local, Bits<16>>,
    e_seq_r: Signal<Local, Bits<16>>,
    e_tb_r_s: Signal<Local, Bits<17>>,
    e_tb_r_n: Signal<Local, Bits<16>>,
    e_tb_r_p: Signal<Local, Bits<16>>,
    e_tb_r: Signal<Local, Bits<16>>,
    e_ip_r_s: Signal<Local, Bits<17>>,
    e_ip_r_n: Signal<Local, Bits<16>>,
    e_ip_r_p: Signal<Local, Bits<16>>,
    e_ip_r: Signal<Local, Bits<16>>,
    e_ft_r_s: Signal<Local, Bits<17>>,
    e_ft_r_n: Signal<Local, Bits<16>>,
    e_ft_r_p: Signal<Local, Bits<16>>,
    e_ft_r: Signal<Local, Bits<16>>,
    e_ps_r_s: Signal<Local, Bits<17>>,
    e_ps_r_n: Signal<Local, Bits<16>>,
    e_ps_r_p: Signal<Local, Bits<16>>,
    e_ps_r: Signal<Local, Bits<16>>,
    e_tcp_r_s: Signal<Local, Bits<17>>,
    e_tcp_r_n: Signal<Local, Bits<16>>,
    e_tcp_r_p: Signal<Local, Bits<16>>,
    e_tcp_r: Signal<Local, Bits<16>>,
    e_in_r_s: Signal<Local, Bits<17>>,
    e_in_r_n: Signal<Local, Bits<16>>,
    e_in_r_p: Signal<Local, Bits<16>>,
    e_in_r: Signal<Local, Bits<16>>,
    e_g_r_s: Signal<Local, Bits<17>>,
    e_g_r_n: Signal<Local, Bits<16>>,
    e_g_r_p: Signal<Local, Bits<16>>,
    e_g_r: Signal<Local, Bits<16>>,
    e_g0_r_s: Signal<Local, Bits<17>>,
    e_g0_r_n: Signal<Local, Bits<16>>,
    e_g0_r_p: Signal<Local, Bits<16>>,
    e_g0_r: Signal<Local, Bits<16>>,
    ones: Constant<Bits<64>>,
    m32: Constant<Bits<64>>,
    m16: Constant<Bits<64>>,
    m8: Constant<Bits<64>>,
    k56: Constant<Bits<6>>,
    k8: Constant<Bits<4>>,
    ff8: Constant<Bits<8>>,
    not_fin_psh: Constant<Bits<8>>,
    not_cwr: Constant<Bits<8>>,
}

impl Default for TsoSegmenter {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            s_tso_en: Default::default(),
            sum_valid: Default::default(),
            sum_value: Default::default(),
            sum_pop: Default::default(),
            m_axis: Default::default(),
            busy: Default::default(),
            desc: Default::default(),
            busy_c: Default::default(),
            tso_k: Default::default(),
            k_btl: Default::default(),
            k_bs0: Default::default(),
            k_bs1: Default::default(),
            k_bfl: Default::default(),
            k_shtl: Default::default(),
            k_shs0: Default::default(),
            k_shs1: Default::default(),
            k_shfl: Default::default(),
            first: Default::default(),
            rem: Default::default(),
            idk: Default::default(),
            seqk: Default::default(),
            t: Default::default(),
            t_ge: Default::default(),
            res: Default::default(),
            hdr: Default::default(),
            out: Default::default(),
            c_last: Default::default(),
            c_len: Default::default(),
            c_lastt: Default::default(),
            c_r7: Default::default(),
            eb: Default::default(),
            bl: Default::default(),
            tn0: Default::default(),
            e: Default::default(),
            jmp: Default::default(),
            c_tl3: Default::default(),
            c_flg: Default::default(),
            c_ipv: Default::default(),
            c_tcp: Default::default(),
            c_inner: Default::default(),
            x_rem: Default::default(),
            x_id: Default::default(),
            x_seq: Default::default(),
            f_c3: Default::default(),
            f_c4: Default::default(),
            f_hlm1: Default::default(),
            f_a6: Default::default(),
            y_last: Default::default(),
            y_pk: Default::default(),
            y_ipid: Default::default(),
            y_seq: Default::default(),
            z_len: Default::default(),
            z_lenm1: Default::default(),
            z_tl3: Default::default(),
            z_tl4: Default::default(),
            z_flg: Default::default(),
            z_tb: Default::default(),
            n_ipv: Default::default(),
            w_ft: Default::default(),
            w_ps: Default::default(),
            n_lastt: Default::default(),
            n_lt0: Default::default(),
            n_tcp: Default::default(),
            n_inner: Default::default(),
            start: Default::default(),
            dnow: Default::default(),
            ti: Default::default(),
            tso_now: Default::default(),
            start_c: Default::default(),
            tso_c: Default::default(),
            end_c: Default::default(),
            dr: Default::default(),
            tr: Default::default(),
            tso_r: Default::default(),
            mss_r: Default::default(),
            l3_r: Default::default(),
            l4_r: Default::default(),
            hl_r: Default::default(),
            hb_r: Default::default(),
            hb_m1: Default::default(),
            hl_m1_r: Default::default(),
            last_hdr_r: Default::default(),
            fl_r: Default::default(),
            tu: Default::default(),
            ts: Default::default(),
            s0: Default::default(),
            flg16_r: Default::default(),
            pl_s: Default::default(),
            l3_s: Default::default(),
            l4_s: Default::default(),
            id_s: Default::default(),
            seq_s: Default::default(),
            six: Default::default(),
            inv_xseqh: Default::default(),
            inv_xseql: Default::default(),
            inv_ftcb: Default::default(),
            inv_tl4: Default::default(),
            inv_flg: Default::default(),
            inv_ssum: Default::default(),
            last_s: Default::default(),
            len_s: Default::default(),
            lm1_s: Default::default(),
            tl3_s: Default::default(),
            flg_s: Default::default(),
            ipv_s: Default::default(),
            l4v_s: Default::default(),
            inner_s: Default::default(),
            tcp_s: Default::default(),
            x_idn: Default::default(),
            x_seqh: Default::default(),
            x_seql: Default::default(),
            f_as: Default::default(),
            f_ipb: Default::default(),
            f_tcb: Default::default(),
            f_l2: Default::default(),
            psn_n: Default::default(),
            l4v_r: Default::default(),
            flgz: Default::default(),
            lm1z: Default::default(),
            first_now: Default::default(),
            end_beat: Default::default(),
            e_sh: Default::default(),
            e_hi: Default::default(),
            e_lo: Default::default(),
            e_lo4: Default::default(),
            e_near: Default::default(),
            e_m8: Default::default(),
            e_mj: Default::default(),
            e_pj: Default::default(),
            ltt_s: Default::default(),
            need: Default::default(),
            sum_ok: Default::default(),
            have: Default::default(),
            go: Default::default(),
            take: Default::default(),
            t_next: Default::default(),
            t_rd: Default::default(),
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
            seq_r: Default::default(),
            tl3_r: Default::default(),
            id_r: Default::default(),
            nb: Default::default(),
            keep: Default::default(),
            pt: Default::default(),
            pts: Default::default(),
            od: Default::default(),
            odata: Default::default(),
            okeep: Default::default(),
            olast: Default::default(),
            e_a6_r_s: Default::default(),
            e_a6_r_n: Default::default(),
            e_a6_r_p: Default::default(),
            e_a6_r: Default::default(),
            e_ipid_r_s: Default::default(),
            e_ipid_r_n: Default::default(),
            e_ipid_r_p: Default::default(),
            e_ipid_r: Default::default(),
            e_seq_r_s: Default::default(),
            e_seq_r_n: Default::default(),
            e_seq_r_p: Default::default(),
            e_seq_r: Default::default(),
            e_tb_r_s: Default::default(),
            e_tb_r_n: Default::default(),
            e_tb_r_p: Default::default(),
            e_tb_r: Default::default(),
            e_ip_r_s: Default::default(),
            e_ip_r_n: Default::default(),
            e_ip_r_p: Default::default(),
            e_ip_r: Default::default(),
            e_ft_r_s: Default::default(),
            e_ft_r_n: Default::default(),
            e_ft_r_p: Default::default(),
            e_ft_r: Default::default(),
            e_ps_r_s: Default::default(),
            e_ps_r_n: Default::default(),
            e_ps_r_p: Default::default(),
            e_ps_r: Default::default(),
            e_tcp_r_s: Default::default(),
            e_tcp_r_n: Default::default(),
            e_tcp_r_p: Default::default(),
            e_tcp_r: Default::default(),
            e_in_r_s: Default::default(),
            e_in_r_n: Default::default(),
            e_in_r_p: Default::default(),
            e_in_r: Default::default(),
            e_g_r_s: Default::default(),
            e_g_r_n: Default::default(),
            e_g_r_p: Default::default(),
            e_g_r: Default::default(),
            e_g0_r_s: Default::default(),
            e_g0_r_n: Default::default(),
            e_g0_r_p: Default::default(),
            e_g0_r: Default::default(),
            ones: Constant::new(u64::MAX.to_bits()),
            m32: Constant::new(0xffff_ffffu64.to_bits()),
            m16: Constant::new(0xffffu64.to_bits()),
            m8: Constant::new(0xffu64.to_bits()),
            k56: Constant::new(56u64.to_bits()),
            k8: Constant::new(8u64.to_bits()),
            ff8: Constant::new(0xffu64.to_bits()),
            // FIN 0x01 and PSH 0x08 stay on the last segment only, CWR 0x80
            // on the first only.
            not_fin_psh: Constant::new(0xf6u64.to_bits()),
            not_cwr: Constant::new(0x7fu64.to_bits()),
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
        dff_setup!(
            self, clock, busy, desc, busy_c, tso_k, k_btl, k_bs0, k_bs1, k_bfl, k_shtl, k_shs0,
            k_shs1, k_shfl, first, rem, idk, seqk, t, t_ge, res, c_last, c_len, c_lastt, c_r7, eb,
            bl, tn0, e, jmp, c_tl3, c_flg, c_ipv, c_tcp, c_inner, x_rem, x_id, x_seq, f_c3, f_c4,
            f_hlm1, f_a6, y_last, y_pk, y_ipid, y_seq, z_len, z_lenm1, z_tl3, z_tl4, z_flg, z_tb,
            n_ipv, w_ft, w_ps, n_lastt, n_lt0, n_tcp, n_inner
        );
        clock!(self, clock, hdr, out);
        StreamSource::<TxDescriptor>::link(&mut self.m_axis, &mut self.out.m_axis);

        // ---- The frame: from the input on its first beat, then held ----
        self.start.next = !self.busy.q.val();
        self.dnow.next = self.desc.q.val();
        if self.start.val() {
            self.dnow.next = self.s_axis.tuser.val();
        }
        self.ti.next = self.dnow.val().tso;
        self.tso_now.next = self.ti.val().en;
        // The held frame: all that is not the first beat's.
        self.dr.next = self.desc.q.val();
        self.tr.next = self.dr.val().tso;
        self.tso_r.next = self.tr.val().en;
        self.mss_r.next = self.tr.val().mss;
        self.l3_r.next = bit_cast::<16, 8>(self.tr.val().l3);
        self.l4_r.next = bit_cast::<16, 8>(self.tr.val().l4);
        self.hl_r.next = bit_cast::<16, 8>(self.tr.val().hdr_len);
        self.fl_r.next = self.tr.val().flags;
        self.hb_r.next = self.hl_r.val() >> 3;
        self.hb_m1.next = self.hb_r.val() - 1;
        // Differences go through 16-bit Locals before any shift: the
        // Verilog would otherwise take them at 32 bits (junk inputs reach
        // the output registers, so Rust and Verilog must agree on them too).
        self.hl_m1_r.next = self.hl_r.val() - 1;
        self.last_hdr_r.next = self.hl_m1_r.val() >> 3;

        // ---- Segment 0, from the first beat's TsoInfo and TsoFirst ----
        self.tu.next = self.s_axis.tuser.val();
        self.ts.next = self.tu.val().tso;
        self.s0.next = self.tu.val().tso_first;
        self.pl_s.next = self.ts.val().payload_len;
        self.l3_s.next = bit_cast::<16, 8>(self.ts.val().l3);
        self.l4_s.next = bit_cast::<16, 8>(self.ts.val().l4);
        self.id_s.next = self.ts.val().ip_id;
        self.seq_s.next = self.ts.val().seq;
        self.six.next = 6.into();
        self.last_s.next = self.s0.val().last;
        self.len_s.next = self.s0.val().len;
        self.lm1_s.next = self.s0.val().len_m1;
        self.tl3_s.next = self.s0.val().tl3;
        self.flg_s.next = self.s0.val().flags;
        self.ipv_s.next = self.s0.val().ip_csum;
        self.tcp_s.next = self.s0.val().tcp_part;
        self.inner_s.next = self.s0.val().inner_sum;

        // ---- The next segment, worked out while this one goes ----
        // Free-running stages from this segment's registers, which hold
        // still through it: five cycles on, before its last beat (a segment
        // with a next one is at least `H + mss >= 98` bytes, 13 beats).
        self.x_rem.d.next = self.rem.q.val() - self.mss_r.val();
        self.x_id.d.next = self.idk.q.val() + 1;
        self.x_seq.d.next = self.seqk.q.val() + bit_cast::<32, 16>(self.mss_r.val());
        self.f_c3.d.next = self.hl_r.val() - self.l3_r.val();
        self.f_c4.d.next = self.hl_r.val() - self.l4_r.val();
        self.f_hlm1.d.next = self.hl_m1_r.val();
        self.f_as.next = self.tr.val().addr_sum;
        self.f_ipb.next = self.tr.val().ip_base;
        self.f_tcb.next = self.tr.val().tcp_base;
        self.f_l2.next = self.tr.val().l2_sum;
        self.e_a6_r_s.next =
            bit_cast::<17, 16>(self.f_as.val()) + bit_cast::<17, 16>(self.six.val());
        self.e_a6_r_n.next = !self.six.val();
        self.e_a6_r_p.next = self.f_as.val() - self.e_a6_r_n.val();
        self.e_a6_r.next = bit_cast::<16, 17>(self.e_a6_r_s.val());
        if self.e_a6_r_s.val().get_bit(16) {
            self.e_a6_r.next = self.e_a6_r_p.val();
        }
        self.f_a6.d.next = self.e_a6_r.val();
        // Stage 2.
        self.y_last.d.next = self.x_rem.q.val() <= self.mss_r.val();
        self.y_pk.d.next = self.mss_r.val();
        if self.x_rem.q.val() <= self.mss_r.val() {
            self.y_pk.d.next = self.x_rem.q.val();
        }
        self.x_idn.next = self.x_id.q.val();
        self.x_seqh.next = self.x_seq.q.val().get_bits::<16>(16);
        self.x_seql.next = self.x_seq.q.val().get_bits::<16>(0);
        self.e_ipid_r_s.next =
            bit_cast::<17, 16>(self.f_ipb.val()) + bit_cast::<17, 16>(self.x_idn.val());
        self.e_ipid_r_n.next = !self.x_idn.val();
        self.e_ipid_r_p.next = self.f_ipb.val() - self.e_ipid_r_n.val();
        self.e_ipid_r.next = bit_cast::<16, 17>(self.e_ipid_r_s.val());
        if self.e_ipid_r_s.val().get_bit(16) {
            self.e_ipid_r.next = self.e_ipid_r_p.val();
        }
        self.inv_xseqh.next = !self.x_seqh.val();
        self.inv_xseql.next = !self.x_seql.val();
        self.e_seq_r_s.next =
            bit_cast::<17, 16>(self.inv_xseqh.val()) + bit_cast::<17, 16>(self.inv_xseql.val());
        self.e_seq_r_n.next = !self.inv_xseql.val();
        self.e_seq_r_p.next = self.inv_xseqh.val() - self.e_seq_r_n.val();
        self.e_seq_r.next = bit_cast::<16, 17>(self.e_seq_r_s.val());
        if self.e_seq_r_s.val().get_bit(16) {
            self.e_seq_r.next = self.e_seq_r_p.val();
        }
        self.y_ipid.d.next = self.e_ipid_r.val();
        self.y_seq.d.next = self.e_seq_r.val();
        // Stage 3.
        self.z_len.d.next = self.hl_r.val() + self.y_pk.q.val();
        self.z_lenm1.d.next = self.f_hlm1.q.val() + self.y_pk.q.val();
        self.z_tl3.d.next = self.f_c3.q.val() + self.y_pk.q.val();
        self.z_tl4.d.next = self.f_c4.q.val() + self.y_pk.q.val();
        self.flgz.next = self.fl_r.val() & self.not_cwr.val();
        if !self.y_last.q.val() {
            self.flgz.next = self.flgz.val() & self.not_fin_psh.val();
        }
        self.z_flg.d.next = self.flgz.val();
        self.inv_ftcb.next = !self.f_tcb.val();
        self.e_tb_r_s.next =
            bit_cast::<17, 16>(self.inv_ftcb.val()) + bit_cast::<17, 16>(self.y_seq.q.val());
        self.e_tb_r_n.next = !self.y_seq.q.val();
        self.e_tb_r_p.next = self.inv_ftcb.val() - self.e_tb_r_n.val();
        self.e_tb_r.next = bit_cast::<16, 17>(self.e_tb_r_s.val());
        if self.e_tb_r_s.val().get_bit(16) {
            self.e_tb_r.next = self.e_tb_r_p.val();
        }
        self.z_tb.d.next = self.e_tb_r.val();
        // Stage 4.
        self.e_ip_r_s.next =
            bit_cast::<17, 16>(self.y_ipid.q.val()) + bit_cast::<17, 16>(self.z_tl3.q.val());
        self.e_ip_r_n.next = !self.z_tl3.q.val();
        self.e_ip_r_p.next = self.y_ipid.q.val() - self.e_ip_r_n.val();
        self.e_ip_r.next = bit_cast::<16, 17>(self.e_ip_r_s.val());
        if self.e_ip_r_s.val().get_bit(16) {
            self.e_ip_r.next = self.e_ip_r_p.val();
        }
        self.flg16_r.next = bit_cast::<16, 8>(self.z_flg.q.val());
        self.inv_flg.next = !self.flg16_r.val();
        self.inv_tl4.next = !self.z_tl4.q.val();
        self.e_ft_r_s.next =
            bit_cast::<17, 16>(self.inv_tl4.val()) + bit_cast::<17, 16>(self.inv_flg.val());
        self.e_ft_r_n.next = !self.inv_flg.val();
        self.e_ft_r_p.next = self.inv_tl4.val() - self.e_ft_r_n.val();
        self.e_ft_r.next = bit_cast::<16, 17>(self.e_ft_r_s.val());
        if self.e_ft_r_s.val().get_bit(16) {
            self.e_ft_r.next = self.e_ft_r_p.val();
        }
        self.e_ps_r_s.next =
            bit_cast::<17, 16>(self.f_a6.q.val()) + bit_cast::<17, 16>(self.z_tl4.q.val());
        self.e_ps_r_n.next = !self.z_tl4.q.val();
        self.e_ps_r_p.next = self.f_a6.q.val() - self.e_ps_r_n.val();
        self.e_ps_r.next = bit_cast::<16, 17>(self.e_ps_r_s.val());
        if self.e_ps_r_s.val().get_bit(16) {
            self.e_ps_r.next = self.e_ps_r_p.val();
        }
        self.n_ipv.d.next = !self.e_ip_r.val();
        self.w_ft.d.next = self.e_ft_r.val();
        self.w_ps.d.next = self.e_ps_r.val();
        self.lm1z.next = self.z_lenm1.q.val();
        self.n_lastt.d.next = self.lm1z.val() >> 3;
        self.n_lt0.d.next = (self.lm1z.val() >> 3) == 0;
        self.jmp.d.next =
            bit_cast::<17, 16>(self.mss_r.val()) - (bit_cast::<17, 16>(self.c_lastt.q.val()) << 3);
        // Stage 5.
        self.e_tcp_r_s.next =
            bit_cast::<17, 16>(self.z_tb.q.val()) + bit_cast::<17, 16>(self.w_ft.q.val());
        self.e_tcp_r_n.next = !self.w_ft.q.val();
        self.e_tcp_r_p.next = self.z_tb.q.val() - self.e_tcp_r_n.val();
        self.e_tcp_r.next = bit_cast::<16, 17>(self.e_tcp_r_s.val());
        if self.e_tcp_r_s.val().get_bit(16) {
            self.e_tcp_r.next = self.e_tcp_r_p.val();
        }
        self.psn_n.next = !self.w_ps.q.val();
        self.e_in_r_s.next =
            bit_cast::<17, 16>(self.f_l2.val()) + bit_cast::<17, 16>(self.psn_n.val());
        self.e_in_r_n.next = !self.psn_n.val();
        self.e_in_r_p.next = self.f_l2.val() - self.e_in_r_n.val();
        self.e_in_r.next = bit_cast::<16, 17>(self.e_in_r_s.val());
        if self.e_in_r_s.val().get_bit(16) {
            self.e_in_r.next = self.e_in_r_p.val();
        }
        self.n_tcp.d.next = self.e_tcp_r.val();
        self.n_inner.d.next = self.e_in_r.val();

        // ---- The segment ----
        // A TSO frame's first beat is the first of segment 0 and never its
        // last (`H >= 34`), and it always takes its input beat.
        self.end_beat.next = self.eb.q.val() & !self.start.val();
        // The handshake's own copies (see `busy_c`): everything below that
        // decides whether a beat goes, and every clock enable, reads these.
        self.start_c.next = !self.busy_c.q.val();
        self.tso_c.next = self.tso_k.q.val();
        if self.start_c.val() {
            self.tso_c.next = self.s_tso_en.val();
        }
        self.first_now.next = self.first.q.val() | self.start_c.val();
        self.end_c.next = self.eb.q.val() & !self.start_c.val();

        // ---- Does this beat take an input beat? ----
        // Yes if the last input byte it needs (lane 7's, or the segment's
        // last) is not in `res`: at or past the beat on s_axis, `e <= 7`
        // (`e <= c_r7` on the segment's last beat).
        self.e_sh.next = self.e.q.val() >> 3;
        self.e_hi.next = bit_cast::<13, 17>(self.e_sh.val());
        self.e_lo.next = bit_cast::<3, 17>(self.e.q.val());
        self.e_near.next = self.e.q.val().get_bit(16)
            | ((self.e_hi.val() == 0)
                & (!self.eb.q.val() | (self.e_lo.val() <= self.c_r7.q.val())));
        self.need.next = true;
        if self.tso_k.q.val() & !self.first_now.val() {
            self.need.next = self.t_ge.q.val() & self.e_near.val();
        }
        // A segment starts only with its payload sum at the FIFO's head.
        self.sum_ok.next = !(self.tso_c.val() & !self.tn0.q.val()) | self.sum_valid.val();
        self.have.next = (!self.need.val() | self.s_axis.tvalid.val()) & self.sum_ok.val();
        // Depends on state, s_tso_en and the FIFO head, never on tvalid.
        self.s_axis.tready.next =
            self.out.s_axis.tready.val() & self.need.val() & self.sum_ok.val();
        self.go.next = self.have.val() & self.out.s_axis.tready.val();
        self.take.next = self.go.val() & self.need.val();
        self.sum_pop.next = self.go.val() & self.tso_c.val() & !self.tn0.q.val();

        // ---- Header storage: written by segment 0, replayed after ----
        self.t_next.next = self.t.q.val();
        if self.go.val() & self.tso_c.val() {
            self.t_next.next = self.t.q.val() + 1;
            if self.end_c.val() {
                self.t_next.next = 0.into();
            }
            // `t + 1 >= H / 8`; false after a frame's first beat and a
            // segment's last, since `t` is then 1 or 0 and `H >= 34`.
            self.t_ge.d.next = self.t_ge.q.val() | (self.t.q.val() == self.hb_m1.val());
            if self.end_c.val() | self.start_c.val() {
                self.t_ge.d.next = false;
            }
        }
        self.din.next = self.s_axis.tdata.val();
        self.we.next = self.go.val()
            & self.tso_c.val()
            & self.first_now.val()
            & ((self.t.q.val() <= self.last_hdr_r.val()) | self.start_c.val());
        self.hdr.write_address.next = bit_cast::<5, 16>(self.t.q.val());
        self.hdr.write_data.next = self.din.val();
        self.hdr.write_enable.next = self.we.val();
        // The word for the beat after this one, read only when this one
        // goes: the address never waits for `go`.
        self.t_rd.next = self.t.q.val() + 1;
        if self.end_beat.val() {
            self.t_rd.next = 0.into();
        }
        self.hdr.read_address.next = bit_cast::<5, 16>(self.t_rd.val());
        self.hdr.read_enable.next = self.go.val() & !self.we.val();

        // ---- The beat: header, payload through the window, or both ----
        // From the held frame and segment: on a TSO frame's first beat it
        // is that beat (header bytes 0..7, none of them changed).
        self.hsrc.next = self.hdr.read_data.val();
        if self.first.q.val() {
            self.hsrc.next = self.din.val();
        }
        // `dd = (8 - e) mod 16`.
        self.e_lo4.next = bit_cast::<4, 17>(self.e.q.val());
        self.dd.next = self.k8.val() - self.e_lo4.val();
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
        self.hsh.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.hl_r.val())) << 3;
        self.hmask.next = !(self.ones.val() << self.hsh.val());
        self.data.next = self.pay.val();
        if self.t.q.val() < self.hb_r.val() {
            self.data.next = self.hsrc.val();
        } else if self.t.q.val() == self.hb_r.val() {
            self.data.next =
                (self.hsrc.val() & self.hmask.val()) | (self.pay.val() & !self.hmask.val());
        }

        // ---- The changed header fields, big-endian, at their lanes ----
        // Total length and identification: 4 bytes at L3 + 2 (16 or 20, so
        // always within beat 2); the sequence number in two 16-bit halves
        // at even positions (never across a beat); the flags byte.
        // (Positions from the input's TsoInfo, for `k_*` at the first beat.)
        self.p_tl.next = self.l3_s.val() + 2;
        self.p_s0.next = self.l4_s.val() + 4;
        self.p_s1.next = self.l4_s.val() + 6;
        self.p_fl.next = self.l4_s.val() + 13;
        self.sh_tl.next = self.k_shtl.q.val();
        self.sh_s0.next = self.k_shs0.q.val();
        self.sh_s1.next = self.k_shs1.q.val();
        self.sh_fl.next = self.k_shfl.q.val();
        self.tl3_r.next = self.c_tl3.q.val();
        self.id_r.next = self.idk.q.val();
        self.seq_r.next = self.seqk.q.val();
        self.v_tl.next = bit_cast::<64, 8>(self.tl3_r.val().get_bits::<8>(8))
            | (bit_cast::<64, 8>(self.tl3_r.val().get_bits::<8>(0)) << 8)
            | (bit_cast::<64, 8>(self.id_r.val().get_bits::<8>(8)) << 16)
            | (bit_cast::<64, 8>(self.id_r.val().get_bits::<8>(0)) << 24);
        self.v_s0.next = bit_cast::<64, 8>(self.seq_r.val().get_bits::<8>(24))
            | (bit_cast::<64, 8>(self.seq_r.val().get_bits::<8>(16)) << 8);
        self.v_s1.next = bit_cast::<64, 8>(self.seq_r.val().get_bits::<8>(8))
            | (bit_cast::<64, 8>(self.seq_r.val().get_bits::<8>(0)) << 8);
        self.v_fl.next = bit_cast::<64, 8>(self.c_flg.q.val());
        if self.k_btl.q.val() == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m32.val() << self.sh_tl.val()))
                | (self.v_tl.val() << self.sh_tl.val());
        }
        if self.k_bs0.q.val() == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m16.val() << self.sh_s0.val()))
                | (self.v_s0.val() << self.sh_s0.val());
        }
        if self.k_bs1.q.val() == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m16.val() << self.sh_s1.val()))
                | (self.v_s1.val() << self.sh_s1.val());
        }
        if self.k_bfl.q.val() == self.t.q.val() {
            self.data.next = (self.data.val() & !(self.m8.val() << self.sh_fl.val()))
                | (self.v_fl.val() << self.sh_fl.val());
        }
        if self.start.val() {
            self.data.next = self.din.val();
        }
        self.nb.next = bit_cast::<4, 16>(self.c_len.q.val() - (self.t.q.val() << 3));
        self.keep.next = self.ff8.val();
        if self.end_beat.val() {
            self.keep.next = self.ff8.val() >> (self.k8.val() - self.nb.val());
        }

        // ---- The segment's checksums and inner sum ----
        // Held for the segment but the TCP sum's payload part, the FIFO's
        // head: one add on this beat.
        self.inv_ssum.next = !self.sum_value.val();
        self.e_g_r_s.next =
            bit_cast::<17, 16>(self.c_tcp.q.val()) + bit_cast::<17, 16>(self.inv_ssum.val());
        self.e_g_r_n.next = !self.inv_ssum.val();
        self.e_g_r_p.next = self.c_tcp.q.val() - self.e_g_r_n.val();
        self.e_g_r.next = bit_cast::<16, 17>(self.e_g_r_s.val());
        if self.e_g_r_s.val().get_bit(16) {
            self.e_g_r.next = self.e_g_r_p.val();
        }
        self.l4v_r.next = self.e_g_r.val();
        // Segment 0's, from its TsoFirst at the buffer's head.
        self.e_g0_r_s.next =
            bit_cast::<17, 16>(self.tcp_s.val()) + bit_cast::<17, 16>(self.inv_ssum.val());
        self.e_g0_r_n.next = !self.inv_ssum.val();
        self.e_g0_r_p.next = self.tcp_s.val() - self.e_g0_r_n.val();
        self.e_g0_r.next = bit_cast::<16, 17>(self.e_g0_r_s.val());
        if self.e_g0_r_s.val().get_bit(16) {
            self.e_g0_r.next = self.e_g0_r_p.val();
        }
        self.l4v_s.next = self.e_g0_r.val();
        // Segment 0's values are the latest signals here: they pick last.
        self.pt.next = self.dr.val().patch;
        self.pt.next.ip_en = true;
        self.pt.next.ip_pos = self.l3_r.val() + 10;
        self.pt.next.ip_value = self.c_ipv.q.val();
        self.pt.next.l4_en = true;
        self.pt.next.l4_pos = self.l4_r.val() + 16;
        self.pt.next.l4_value = self.l4v_r.val();
        self.pts.next = self.tu.val().patch;
        self.pts.next.ip_en = true;
        self.pts.next.ip_pos = self.l3_s.val() + 10;
        self.pts.next.ip_value = self.ipv_s.val();
        self.pts.next.l4_en = true;
        self.pts.next.l4_pos = self.l4_s.val() + 16;
        self.pts.next.l4_value = self.l4v_s.val();

        // ---- Out: a segment, or the input beat untouched ----
        self.od.next = self.tu.val();
        if !self.start.val() & self.tso_r.val() {
            self.od.next = self.dr.val();
            self.od.next.length = self.c_len.q.val();
            self.od.next.inner_sum = self.c_inner.q.val();
            self.od.next.patch = self.pt.val();
        }
        if self.start.val() & self.ts.val().en {
            self.od.next.length = self.len_s.val();
            self.od.next.inner_sum = self.inner_s.val();
            self.od.next.patch = self.pts.val();
        }
        self.odata.next = self.din.val();
        self.okeep.next = self.s_axis.tkeep.val();
        self.olast.next = self.s_axis.tlast.val();
        if self.tso_now.val() {
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
        self.ltt_s.next = self.lm1_s.val() >> 3;
        self.e_m8.next = self.e.q.val() - 8;
        self.e_mj.next = self.e.q.val() - self.jmp.q.val();
        self.e_pj.next = self.e.q.val() + 8 - self.jmp.q.val();
        self.t.d.next = self.t_next.val();
        // `busy` for the data path's muxes, from their own signals.
        if self.go.val() {
            if !self.tso_now.val() {
                self.busy.d.next = !self.s_axis.tlast.val();
            } else {
                self.busy.d.next = true;
                if self.end_beat.val() & self.c_last.q.val() {
                    self.busy.d.next = false;
                }
            }
        }
        // The frame's descriptor follows the input until the first beat
        // goes (`busy` rises then; a one-beat frame leaves it low, and the
        // next frame's first beat reloads it). Only that load is ever
        // read: the registers worked out from `desc` while idle are
        // rewritten before a segment uses them. So the 700-bit enable is
        // `busy`'s flip-flop, not `go` (the downstream's tready, 292 sinks
        // spread over the block).
        if !self.busy.q.val() {
            self.desc.d.next = self.s_axis.tuser.val();
        }
        // The rest on the handshake's copies.
        if self.go.val() {
            if self.start_c.val() {
                self.k_btl.d.next = self.p_tl.val() >> 3;
                self.k_bs0.d.next = self.p_s0.val() >> 3;
                self.k_bs1.d.next = self.p_s1.val() >> 3;
                self.k_bfl.d.next = self.p_fl.val() >> 3;
                self.k_shtl.d.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_tl.val())) << 3;
                self.k_shs0.d.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_s0.val())) << 3;
                self.k_shs1.d.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_s1.val())) << 3;
                self.k_shfl.d.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.p_fl.val())) << 3;
            }
            if !self.tso_c.val() {
                self.busy_c.d.next = !self.s_axis.tlast.val();
            } else {
                self.busy_c.d.next = true;
                // Lane 0 moves on 8, the input 8 if a beat is taken.
                self.tn0.d.next = true;
                self.eb.d.next = self.bl.q.val() == 1;
                self.bl.d.next = self.bl.q.val() - 1;
                if !self.take.val() {
                    self.e.d.next = self.e_m8.val();
                }
                if self.start_c.val() {
                    self.tso_k.d.next = true;
                    self.first.d.next = true;
                    self.rem.d.next = self.pl_s.val();
                    self.idk.d.next = self.id_s.val();
                    self.seqk.d.next = self.seq_s.val();
                    self.c_last.d.next = self.last_s.val();
                    self.c_len.d.next = self.len_s.val();
                    self.c_lastt.d.next = self.ltt_s.val();
                    self.c_r7.d.next = bit_cast::<3, 16>(self.lm1_s.val());
                    self.eb.d.next = self.ltt_s.val() == 1;
                    self.bl.d.next = self.ltt_s.val() - 1;
                    self.c_tl3.d.next = self.tl3_s.val();
                    self.c_flg.d.next = self.flg_s.val();
                    self.c_ipv.d.next = self.ipv_s.val();
                    self.c_tcp.d.next = self.tcp_s.val();
                    self.c_inner.d.next = self.inner_s.val();
                }
                if self.take.val() {
                    self.res.d.next = self.din.val();
                }
                if self.end_c.val() {
                    self.first.d.next = false;
                    self.rem.d.next = self.x_rem.q.val();
                    self.idk.d.next = self.x_id.q.val();
                    self.seqk.d.next = self.x_seq.q.val();
                    self.tn0.d.next = false;
                    self.eb.d.next = self.n_lt0.q.val();
                    self.bl.d.next = self.n_lastt.q.val();
                    self.c_r7.d.next = bit_cast::<3, 16>(self.z_lenm1.q.val());
                    self.e.d.next = self.e_mj.val();
                    if self.take.val() {
                        self.e.d.next = self.e_pj.val();
                    }
                    self.c_last.d.next = self.y_last.q.val();
                    self.c_len.d.next = self.z_len.q.val();
                    self.c_lastt.d.next = self.n_lastt.q.val();
                    self.c_tl3.d.next = self.z_tl3.q.val();
                    self.c_flg.d.next = self.z_flg.q.val();
                    self.c_ipv.d.next = self.n_ipv.q.val();
                    self.c_tcp.d.next = self.n_tcp.q.val();
                    self.c_inner.d.next = self.n_inner.q.val();
                    if self.c_last.q.val() {
                        self.busy_c.d.next = false;
                        self.tso_k.d.next = false;
                        self.e.d.next = 0.into();
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
