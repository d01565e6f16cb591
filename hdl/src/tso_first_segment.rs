//! TSO first segment: segment 0's lengths, flags, checksums and inner sum
//! for a TSO frame ([`TsoFirst`]), worked out from its [`TsoInfo`] on the
//! way into the TX buffer, one cycle after the record.
//!
//! Position: `TsoTap.info ─▶ TsoFirstSegment ─▶ (with the record) TX buffer
//! metadata ─▶ TsoSegmenter`. The segmenter works out segment `k + 1`'s
//! values in a pipeline while segment `k` goes, but segment 0's first
//! output beat is the frame's first input beat, so its values have to be
//! there with the descriptor. Worked out in the segmenter's first cycle,
//! they were the NIC's slowest path on the ECP5 (from the TX buffer's
//! metadata head through sums of seven terms to the output register); here
//! they are a register-to-register cycle of their own, in the slot the NIC
//! already had for the `TsoTap`'s results to meet the `TxChecksumTap`'s
//! `done`. Only the segment's payload sum is left for the segmenter to add
//! (`tcp_part`), since it comes from the side FIFO.
//!
//! With `X = min(P, mss)` (`P` when segment 0 is the last, `P <= mss`):
//!
//! ```text
//!  field     | value (ones'-complement sums, 16-bit)
//!  ----------+------------------------------------------------------------
//!  len       | H + X                    len_m1 | H - 1 + X
//!  tl3       | H - L3 + X               flags  | flags, FIN/PSH off unless last
//!  ip_csum   | ~(ip_base + ip_id + tl3)
//!  tcp_part  | ~(tcp_base + seq_hi + seq_lo + (H - L4 + X) + flags)
//!  inner_sum | l2_sum + ~(addr_sum + 6 + (H - L4 + X))
//! ```
//!
//! The sums are carry-save trees (a LUT a level, the carry out of bit 15
//! going round to bit 0) and one add, for both candidate payload lengths
//! (`P` and `mss`) side by side, the compare picking last. Terms go in
//! complemented where the result is a complement (`tcp_part`, the inner
//! sum's pseudo-header part), `H - L3` and `H - L4` go in as `H + ~L - ...`
//! parts of the same trees, which needs the lengths not to wrap (they are
//! lengths of a frame of at most 65535 bytes); the inner sum relies on a
//! nonzero `l2_sum` (an EtherType is never 0). A sum of terms that are not
//! all 0 is never 0 (no level of the tree makes 0 from terms that are not),
//! so the segmenter's one add of the payload sum gives the same TCP
//! checksum as a tree over all eight terms would, and never 0.
//!
//! Timing: `first` shows the values for the `info` of the cycle before,
//! from flip-flops. The `TsoTap` holds `info` from its `done` to the next,
//! so the NIC takes `first` with the record it registered in the same
//! cycle. Nothing is checked: a frame the tap does not pass (`en` low)
//! gets junk, which the segmenter does not look at.

use crate::tx_types::{TsoFirst, TsoInfo};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct TsoFirstSegment {
    pub clock: Signal<In, Clock>,
    /// A TSO frame's record (held by the `TsoTap` from its `done` on).
    pub info: Signal<In, TsoInfo>,
    /// Segment 0's values for the previous cycle's `info`.
    pub first: Signal<Out, TsoFirst>,
    // ---- State ----
    r: DFF<TsoFirst>,
    // ---- Locals ----
    f: Signal<Local, TsoFirst>,
    mss: Signal<Local, Bits<16>>,
    pl: Signal<Local, Bits<16>>,
    l3: Signal<Local, Bits<16>>,
    l4: Signal<Local, Bits<16>>,
    hl: Signal<Local, Bits<16>>,
    ipid: Signal<Local, Bits<16>>,
    seq: Signal<Local, Bits<32>>,
    seqh: Signal<Local, Bits<16>>,
    seql: Signal<Local, Bits<16>>,
    fp: Signal<Local, Bits<8>>,
    fm: Signal<Local, Bits<8>>,
    fp16: Signal<Local, Bits<16>>,
    fm16: Signal<Local, Bits<16>>,
    ipb: Signal<Local, Bits<16>>,
    tcb: Signal<Local, Bits<16>>,
    asum: Signal<Local, Bits<16>>,
    l2: Signal<Local, Bits<16>>,
    last: Signal<Local, Bit>,
    c3: Signal<Local, Bits<16>>,
    hlm1: Signal<Local, Bits<16>>,
    lenp: Signal<Local, Bits<16>>,
    lenm: Signal<Local, Bits<16>>,
    lm1p: Signal<Local, Bits<16>>,
    lm1m: Signal<Local, Bits<16>>,
    tl3p: Signal<Local, Bits<16>>,
    tl3m: Signal<Local, Bits<16>>,
    inv_tcb: Signal<Local, Bits<16>>,
    inv_seqh: Signal<Local, Bits<16>>,
    inv_seql: Signal<Local, Bits<16>>,
    inv_hl: Signal<Local, Bits<16>>,
    inv_l3: Signal<Local, Bits<16>>,
    inv_pl: Signal<Local, Bits<16>>,
    inv_ms: Signal<Local, Bits<16>>,
    inv_fp: Signal<Local, Bits<16>>,
    inv_fm: Signal<Local, Bits<16>>,
    inv_as: Signal<Local, Bits<16>>,
    k_fff9: Signal<Local, Bits<16>>,
    t_ipp_00_s: Signal<Local, Bits<16>>,
    t_ipp_00_c: Signal<Local, Bits<16>>,
    t_ipp_00_r: Signal<Local, Bits<16>>,
    t_ipp_10_s: Signal<Local, Bits<16>>,
    t_ipp_10_c: Signal<Local, Bits<16>>,
    t_ipp_10_r: Signal<Local, Bits<16>>,
    t_ipp_20_s: Signal<Local, Bits<16>>,
    t_ipp_20_c: Signal<Local, Bits<16>>,
    t_ipp_20_r: Signal<Local, Bits<16>>,
    t_ipp_s: Signal<Local, Bits<17>>,
    t_ipp_n: Signal<Local, Bits<16>>,
    t_ipp_p: Signal<Local, Bits<16>>,
    t_ipp: Signal<Local, Bits<16>>,
    t_ipm_00_s: Signal<Local, Bits<16>>,
    t_ipm_00_c: Signal<Local, Bits<16>>,
    t_ipm_00_r: Signal<Local, Bits<16>>,
    t_ipm_10_s: Signal<Local, Bits<16>>,
    t_ipm_10_c: Signal<Local, Bits<16>>,
    t_ipm_10_r: Signal<Local, Bits<16>>,
    t_ipm_20_s: Signal<Local, Bits<16>>,
    t_ipm_20_c: Signal<Local, Bits<16>>,
    t_ipm_20_r: Signal<Local, Bits<16>>,
    t_ipm_s: Signal<Local, Bits<17>>,
    t_ipm_n: Signal<Local, Bits<16>>,
    t_ipm_p: Signal<Local, Bits<16>>,
    t_ipm: Signal<Local, Bits<16>>,
    t_ip: Signal<Local, Bits<16>>,
    t_tcp_00_s: Signal<Local, Bits<16>>,
    t_tcp_00_c: Signal<Local, Bits<16>>,
    t_tcp_00_r: Signal<Local, Bits<16>>,
    t_tcp_01_s: Signal<Local, Bits<16>>,
    t_tcp_01_c: Signal<Local, Bits<16>>,
    t_tcp_01_r: Signal<Local, Bits<16>>,
    t_tcp_10_s: Signal<Local, Bits<16>>,
    t_tcp_10_c: Signal<Local, Bits<16>>,
    t_tcp_10_r: Signal<Local, Bits<16>>,
    t_tcp_20_s: Signal<Local, Bits<16>>,
    t_tcp_20_c: Signal<Local, Bits<16>>,
    t_tcp_20_r: Signal<Local, Bits<16>>,
    t_tcp_30_s: Signal<Local, Bits<16>>,
    t_tcp_30_c: Signal<Local, Bits<16>>,
    t_tcp_30_r: Signal<Local, Bits<16>>,
    t_tcp_s: Signal<Local, Bits<17>>,
    t_tcp_n: Signal<Local, Bits<16>>,
    t_tcp_p: Signal<Local, Bits<16>>,
    t_tcp: Signal<Local, Bits<16>>,
    t_tcm_00_s: Signal<Local, Bits<16>>,
    t_tcm_00_c: Signal<Local, Bits<16>>,
    t_tcm_00_r: Signal<Local, Bits<16>>,
    t_tcm_01_s: Signal<Local, Bits<16>>,
    t_tcm_01_c: Signal<Local, Bits<16>>,
    t_tcm_01_r: Signal<Local, Bits<16>>,
    t_tcm_10_s: Signal<Local, Bits<16>>,
    t_tcm_10_c: Signal<Local, Bits<16>>,
    t_tcm_10_r: Signal<Local, Bits<16>>,
    t_tcm_20_s: Signal<Local, Bits<16>>,
    t_tcm_20_c: Signal<Local, Bits<16>>,
    t_tcm_20_r: Signal<Local, Bits<16>>,
    t_tcm_30_s: Signal<Local, Bits<16>>,
    t_tcm_30_c: Signal<Local, Bits<16>>,
    t_tcm_30_r: Signal<Local, Bits<16>>,
    t_tcm_s: Signal<Local, Bits<17>>,
    t_tcm_n: Signal<Local, Bits<16>>,
    t_tcm_p: Signal<Local, Bits<16>>,
    t_tcm: Signal<Local, Bits<16>>,
    t_tc: Signal<Local, Bits<16>>,
    t_inp_00_s: Signal<Local, Bits<16>>,
    t_inp_00_c: Signal<Local, Bits<16>>,
    t_inp_00_r: Signal<Local, Bits<16>>,
    t_inp_01_s: Signal<Local, Bits<16>>,
    t_inp_01_c: Signal<Local, Bits<16>>,
    t_inp_01_r: Signal<Local, Bits<16>>,
    t_inp_10_s: Signal<Local, Bits<16>>,
    t_inp_10_c: Signal<Local, Bits<16>>,
    t_inp_10_r: Signal<Local, Bits<16>>,
    t_inp_20_s: Signal<Local, Bits<16>>,
    t_inp_20_c: Signal<Local, Bits<16>>,
    t_inp_20_r: Signal<Local, Bits<16>>,
    t_inp_s: Signal<Local, Bits<17>>,
    t_inp_n: Signal<Local, Bits<16>>,
    t_inp_p: Signal<Local, Bits<16>>,
    t_inp: Signal<Local, Bits<16>>,
    t_inm_00_s: Signal<Local, Bits<16>>,
    t_inm_00_c: Signal<Local, Bits<16>>,
    t_inm_00_r: Signal<Local, Bits<16>>,
    t_inm_01_s: Signal<Local, Bits<16>>,
    t_inm_01_c: Signal<Local, Bits<16>>,
    t_inm_01_r: Signal<Local, Bits<16>>,
    t_inm_10_s: Signal<Local, Bits<16>>,
    t_inm_10_c: Signal<Local, Bits<16>>,
    t_inm_10_r: Signal<Local, Bits<16>>,
    t_inm_20_s: Signal<Local, Bits<16>>,
    t_inm_20_c: Signal<Local, Bits<16>>,
    t_inm_20_r: Signal<Local, Bits<16>>,
    t_inm_s: Signal<Local, Bits<17>>,
    t_inm_n: Signal<Local, Bits<16>>,
    t_inm_p: Signal<Local, Bits<16>>,
    t_inm: Signal<Local, Bits<16>>,
    t_in: Signal<Local, Bits<16>>,
    len: Signal<Local, Bits<16>>,
    lm1: Signal<Local, Bits<16>>,
    tl3: Signal<Local, Bits<16>>,
    flg: Signal<Local, Bits<8>>,
    ipv: Signal<Local, Bits<16>>,
    tcp: Signal<Local, Bits<16>>,
    inner: Signal<Local, Bits<16>>,
    not_fin_psh: Constant<Bits<8>>,
}

impl Default for TsoFirstSegment {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            info: Default::default(),
            first: Default::default(),
            r: Default::default(),
            f: Default::default(),
            mss: Default::default(),
            pl: Default::default(),
            l3: Default::default(),
            l4: Default::default(),
            hl: Default::default(),
            ipid: Default::default(),
            seq: Default::default(),
            seqh: Default::default(),
            seql: Default::default(),
            fp: Default::default(),
            fm: Default::default(),
            fp16: Default::default(),
            fm16: Default::default(),
            ipb: Default::default(),
            tcb: Default::default(),
            asum: Default::default(),
            l2: Default::default(),
            last: Default::default(),
            c3: Default::default(),
            hlm1: Default::default(),
            lenp: Default::default(),
            lenm: Default::default(),
            lm1p: Default::default(),
            lm1m: Default::default(),
            tl3p: Default::default(),
            tl3m: Default::default(),
            inv_tcb: Default::default(),
            inv_seqh: Default::default(),
            inv_seql: Default::default(),
            inv_hl: Default::default(),
            inv_l3: Default::default(),
            inv_pl: Default::default(),
            inv_ms: Default::default(),
            inv_fp: Default::default(),
            inv_fm: Default::default(),
            inv_as: Default::default(),
            k_fff9: Default::default(),
            t_ipp_00_s: Default::default(),
            t_ipp_00_c: Default::default(),
            t_ipp_00_r: Default::default(),
            t_ipp_10_s: Default::default(),
            t_ipp_10_c: Default::default(),
            t_ipp_10_r: Default::default(),
            t_ipp_20_s: Default::default(),
            t_ipp_20_c: Default::default(),
            t_ipp_20_r: Default::default(),
            t_ipp_s: Default::default(),
            t_ipp_n: Default::default(),
            t_ipp_p: Default::default(),
            t_ipp: Default::default(),
            t_ipm_00_s: Default::default(),
            t_ipm_00_c: Default::default(),
            t_ipm_00_r: Default::default(),
            t_ipm_10_s: Default::default(),
            t_ipm_10_c: Default::default(),
            t_ipm_10_r: Default::default(),
            t_ipm_20_s: Default::default(),
            t_ipm_20_c: Default::default(),
            t_ipm_20_r: Default::default(),
            t_ipm_s: Default::default(),
            t_ipm_n: Default::default(),
            t_ipm_p: Default::default(),
            t_ipm: Default::default(),
            t_ip: Default::default(),
            t_tcp_00_s: Default::default(),
            t_tcp_00_c: Default::default(),
            t_tcp_00_r: Default::default(),
            t_tcp_01_s: Default::default(),
            t_tcp_01_c: Default::default(),
            t_tcp_01_r: Default::default(),
            t_tcp_10_s: Default::default(),
            t_tcp_10_c: Default::default(),
            t_tcp_10_r: Default::default(),
            t_tcp_20_s: Default::default(),
            t_tcp_20_c: Default::default(),
            t_tcp_20_r: Default::default(),
            t_tcp_30_s: Default::default(),
            t_tcp_30_c: Default::default(),
            t_tcp_30_r: Default::default(),
            t_tcp_s: Default::default(),
            t_tcp_n: Default::default(),
            t_tcp_p: Default::default(),
            t_tcp: Default::default(),
            t_tcm_00_s: Default::default(),
            t_tcm_00_c: Default::default(),
            t_tcm_00_r: Default::default(),
            t_tcm_01_s: Default::default(),
            t_tcm_01_c: Default::default(),
            t_tcm_01_r: Default::default(),
            t_tcm_10_s: Default::default(),
            t_tcm_10_c: Default::default(),
            t_tcm_10_r: Default::default(),
            t_tcm_20_s: Default::default(),
            t_tcm_20_c: Default::default(),
            t_tcm_20_r: Default::default(),
            t_tcm_30_s: Default::default(),
            t_tcm_30_c: Default::default(),
            t_tcm_30_r: Default::default(),
            t_tcm_s: Default::default(),
            t_tcm_n: Default::default(),
            t_tcm_p: Default::default(),
            t_tcm: Default::default(),
            t_tc: Default::default(),
            t_inp_00_s: Default::default(),
            t_inp_00_c: Default::default(),
            t_inp_00_r: Default::default(),
            t_inp_01_s: Default::default(),
            t_inp_01_c: Default::default(),
            t_inp_01_r: Default::default(),
            t_inp_10_s: Default::default(),
            t_inp_10_c: Default::default(),
            t_inp_10_r: Default::default(),
            t_inp_20_s: Default::default(),
            t_inp_20_c: Default::default(),
            t_inp_20_r: Default::default(),
            t_inp_s: Default::default(),
            t_inp_n: Default::default(),
            t_inp_p: Default::default(),
            t_inp: Default::default(),
            t_inm_00_s: Default::default(),
            t_inm_00_c: Default::default(),
            t_inm_00_r: Default::default(),
            t_inm_01_s: Default::default(),
            t_inm_01_c: Default::default(),
            t_inm_01_r: Default::default(),
            t_inm_10_s: Default::default(),
            t_inm_10_c: Default::default(),
            t_inm_10_r: Default::default(),
            t_inm_20_s: Default::default(),
            t_inm_20_c: Default::default(),
            t_inm_20_r: Default::default(),
            t_inm_s: Default::default(),
            t_inm_n: Default::default(),
            t_inm_p: Default::default(),
            t_inm: Default::default(),
            t_in: Default::default(),
            len: Default::default(),
            lm1: Default::default(),
            tl3: Default::default(),
            flg: Default::default(),
            ipv: Default::default(),
            tcp: Default::default(),
            inner: Default::default(),
            not_fin_psh: Constant::new(0xf6u64.to_bits()),
        }
    }
}

impl Logic for TsoFirstSegment {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r);
        self.first.next = self.r.q.val();
        // Both candidates for the payload length (`P` when segment 0 is
        // the last, else `mss`) are worked through side by side; the
        // compare picks at the end, off the sums' path.
        self.mss.next = self.info.val().mss;
        self.pl.next = self.info.val().payload_len;
        self.l3.next = bit_cast::<16, 8>(self.info.val().l3);
        self.l4.next = bit_cast::<16, 8>(self.info.val().l4);
        self.hl.next = bit_cast::<16, 8>(self.info.val().hdr_len);
        self.ipid.next = self.info.val().ip_id;
        self.seq.next = self.info.val().seq;
        self.seqh.next = self.seq.val().get_bits::<16>(16);
        self.seql.next = self.seq.val().get_bits::<16>(0);
        self.fp.next = self.info.val().flags;
        self.fm.next = self.fp.val() & self.not_fin_psh.val();
        self.fp16.next = bit_cast::<16, 8>(self.fp.val());
        self.fm16.next = bit_cast::<16, 8>(self.fm.val());
        self.ipb.next = self.info.val().ip_base;
        self.tcb.next = self.info.val().tcp_base;
        self.asum.next = self.info.val().addr_sum;
        self.l2.next = self.info.val().l2_sum;
        self.last.next = self.pl.val() <= self.mss.val();
        self.c3.next = self.hl.val() - self.l3.val();
        self.hlm1.next = self.hl.val() - 1;
        self.lenp.next = self.hl.val() + self.pl.val();
        self.lenm.next = self.hl.val() + self.mss.val();
        self.lm1p.next = self.hlm1.val() + self.pl.val();
        self.lm1m.next = self.hlm1.val() + self.mss.val();
        self.tl3p.next = self.c3.val() + self.pl.val();
        self.tl3m.next = self.c3.val() + self.mss.val();

        // Ones'-complement sums of many terms as carry-save trees: each
        // level is one LUT (sum and end-around carry), then one add. Terms
        // go in complemented where the result is a complement, so no
        // complement or compare comes after the add.
        self.inv_tcb.next = !self.tcb.val();
        self.inv_seqh.next = !self.seqh.val();
        self.inv_seql.next = !self.seql.val();
        self.inv_hl.next = !self.hl.val();
        self.inv_l3.next = !self.l3.val();
        self.inv_pl.next = !self.pl.val();
        self.inv_ms.next = !self.mss.val();
        self.inv_fp.next = !self.fp16.val();
        self.inv_fm.next = !self.fm16.val();
        self.inv_as.next = !self.asum.val();
        self.k_fff9.next = 0xfff9.into();
        self.t_ipp_00_s.next = self.ipb.val() ^ self.ipid.val() ^ self.hl.val();
        self.t_ipp_00_c.next = (self.ipb.val() & self.ipid.val())
            | (self.ipb.val() & self.hl.val())
            | (self.ipid.val() & self.hl.val());
        self.t_ipp_00_r.next = (self.t_ipp_00_c.val() << 1) | (self.t_ipp_00_c.val() >> 15);
        self.t_ipp_10_s.next = self.t_ipp_00_s.val() ^ self.t_ipp_00_r.val() ^ self.inv_l3.val();
        self.t_ipp_10_c.next = (self.t_ipp_00_s.val() & self.t_ipp_00_r.val())
            | (self.t_ipp_00_s.val() & self.inv_l3.val())
            | (self.t_ipp_00_r.val() & self.inv_l3.val());
        self.t_ipp_10_r.next = (self.t_ipp_10_c.val() << 1) | (self.t_ipp_10_c.val() >> 15);
        self.t_ipp_20_s.next = self.t_ipp_10_s.val() ^ self.t_ipp_10_r.val() ^ self.pl.val();
        self.t_ipp_20_c.next = (self.t_ipp_10_s.val() & self.t_ipp_10_r.val())
            | (self.t_ipp_10_s.val() & self.pl.val())
            | (self.t_ipp_10_r.val() & self.pl.val());
        self.t_ipp_20_r.next = (self.t_ipp_20_c.val() << 1) | (self.t_ipp_20_c.val() >> 15);
        self.t_ipp_s.next =
            bit_cast::<17, 16>(self.t_ipp_20_s.val()) + bit_cast::<17, 16>(self.t_ipp_20_r.val());
        self.t_ipp_n.next = !self.t_ipp_20_r.val();
        self.t_ipp_p.next = self.t_ipp_20_s.val() - self.t_ipp_n.val();
        self.t_ipp.next = bit_cast::<16, 17>(self.t_ipp_s.val());
        if self.t_ipp_s.val().get_bit(16) {
            self.t_ipp.next = self.t_ipp_p.val();
        }
        self.t_ipm_00_s.next = self.ipb.val() ^ self.ipid.val() ^ self.hl.val();
        self.t_ipm_00_c.next = (self.ipb.val() & self.ipid.val())
            | (self.ipb.val() & self.hl.val())
            | (self.ipid.val() & self.hl.val());
        self.t_ipm_00_r.next = (self.t_ipm_00_c.val() << 1) | (self.t_ipm_00_c.val() >> 15);
        self.t_ipm_10_s.next = self.t_ipm_00_s.val() ^ self.t_ipm_00_r.val() ^ self.inv_l3.val();
        self.t_ipm_10_c.next = (self.t_ipm_00_s.val() & self.t_ipm_00_r.val())
            | (self.t_ipm_00_s.val() & self.inv_l3.val())
            | (self.t_ipm_00_r.val() & self.inv_l3.val());
        self.t_ipm_10_r.next = (self.t_ipm_10_c.val() << 1) | (self.t_ipm_10_c.val() >> 15);
        self.t_ipm_20_s.next = self.t_ipm_10_s.val() ^ self.t_ipm_10_r.val() ^ self.mss.val();
        self.t_ipm_20_c.next = (self.t_ipm_10_s.val() & self.t_ipm_10_r.val())
            | (self.t_ipm_10_s.val() & self.mss.val())
            | (self.t_ipm_10_r.val() & self.mss.val());
        self.t_ipm_20_r.next = (self.t_ipm_20_c.val() << 1) | (self.t_ipm_20_c.val() >> 15);
        self.t_ipm_s.next =
            bit_cast::<17, 16>(self.t_ipm_20_s.val()) + bit_cast::<17, 16>(self.t_ipm_20_r.val());
        self.t_ipm_n.next = !self.t_ipm_20_r.val();
        self.t_ipm_p.next = self.t_ipm_20_s.val() - self.t_ipm_n.val();
        self.t_ipm.next = bit_cast::<16, 17>(self.t_ipm_s.val());
        if self.t_ipm_s.val().get_bit(16) {
            self.t_ipm.next = self.t_ipm_p.val();
        }
        self.t_ip.next = self.t_ipm.val();
        if self.last.val() {
            self.t_ip.next = self.t_ipp.val();
        }
        self.t_tcp_00_s.next = self.inv_tcb.val() ^ self.inv_seqh.val() ^ self.inv_seql.val();
        self.t_tcp_00_c.next = (self.inv_tcb.val() & self.inv_seqh.val())
            | (self.inv_tcb.val() & self.inv_seql.val())
            | (self.inv_seqh.val() & self.inv_seql.val());
        self.t_tcp_00_r.next = (self.t_tcp_00_c.val() << 1) | (self.t_tcp_00_c.val() >> 15);
        self.t_tcp_01_s.next = self.inv_hl.val() ^ self.l4.val() ^ self.inv_fp.val();
        self.t_tcp_01_c.next = (self.inv_hl.val() & self.l4.val())
            | (self.inv_hl.val() & self.inv_fp.val())
            | (self.l4.val() & self.inv_fp.val());
        self.t_tcp_01_r.next = (self.t_tcp_01_c.val() << 1) | (self.t_tcp_01_c.val() >> 15);
        self.t_tcp_10_s.next =
            self.t_tcp_00_s.val() ^ self.t_tcp_00_r.val() ^ self.t_tcp_01_s.val();
        self.t_tcp_10_c.next = (self.t_tcp_00_s.val() & self.t_tcp_00_r.val())
            | (self.t_tcp_00_s.val() & self.t_tcp_01_s.val())
            | (self.t_tcp_00_r.val() & self.t_tcp_01_s.val());
        self.t_tcp_10_r.next = (self.t_tcp_10_c.val() << 1) | (self.t_tcp_10_c.val() >> 15);
        self.t_tcp_20_s.next =
            self.t_tcp_10_s.val() ^ self.t_tcp_10_r.val() ^ self.t_tcp_01_r.val();
        self.t_tcp_20_c.next = (self.t_tcp_10_s.val() & self.t_tcp_10_r.val())
            | (self.t_tcp_10_s.val() & self.t_tcp_01_r.val())
            | (self.t_tcp_10_r.val() & self.t_tcp_01_r.val());
        self.t_tcp_20_r.next = (self.t_tcp_20_c.val() << 1) | (self.t_tcp_20_c.val() >> 15);
        self.t_tcp_30_s.next = self.t_tcp_20_s.val() ^ self.t_tcp_20_r.val() ^ self.inv_pl.val();
        self.t_tcp_30_c.next = (self.t_tcp_20_s.val() & self.t_tcp_20_r.val())
            | (self.t_tcp_20_s.val() & self.inv_pl.val())
            | (self.t_tcp_20_r.val() & self.inv_pl.val());
        self.t_tcp_30_r.next = (self.t_tcp_30_c.val() << 1) | (self.t_tcp_30_c.val() >> 15);
        self.t_tcp_s.next =
            bit_cast::<17, 16>(self.t_tcp_30_s.val()) + bit_cast::<17, 16>(self.t_tcp_30_r.val());
        self.t_tcp_n.next = !self.t_tcp_30_r.val();
        self.t_tcp_p.next = self.t_tcp_30_s.val() - self.t_tcp_n.val();
        self.t_tcp.next = bit_cast::<16, 17>(self.t_tcp_s.val());
        if self.t_tcp_s.val().get_bit(16) {
            self.t_tcp.next = self.t_tcp_p.val();
        }
        self.t_tcm_00_s.next = self.inv_tcb.val() ^ self.inv_seqh.val() ^ self.inv_seql.val();
        self.t_tcm_00_c.next = (self.inv_tcb.val() & self.inv_seqh.val())
            | (self.inv_tcb.val() & self.inv_seql.val())
            | (self.inv_seqh.val() & self.inv_seql.val());
        self.t_tcm_00_r.next = (self.t_tcm_00_c.val() << 1) | (self.t_tcm_00_c.val() >> 15);
        self.t_tcm_01_s.next = self.inv_hl.val() ^ self.l4.val() ^ self.inv_fm.val();
        self.t_tcm_01_c.next = (self.inv_hl.val() & self.l4.val())
            | (self.inv_hl.val() & self.inv_fm.val())
            | (self.l4.val() & self.inv_fm.val());
        self.t_tcm_01_r.next = (self.t_tcm_01_c.val() << 1) | (self.t_tcm_01_c.val() >> 15);
        self.t_tcm_10_s.next =
            self.t_tcm_00_s.val() ^ self.t_tcm_00_r.val() ^ self.t_tcm_01_s.val();
        self.t_tcm_10_c.next = (self.t_tcm_00_s.val() & self.t_tcm_00_r.val())
            | (self.t_tcm_00_s.val() & self.t_tcm_01_s.val())
            | (self.t_tcm_00_r.val() & self.t_tcm_01_s.val());
        self.t_tcm_10_r.next = (self.t_tcm_10_c.val() << 1) | (self.t_tcm_10_c.val() >> 15);
        self.t_tcm_20_s.next =
            self.t_tcm_10_s.val() ^ self.t_tcm_10_r.val() ^ self.t_tcm_01_r.val();
        self.t_tcm_20_c.next = (self.t_tcm_10_s.val() & self.t_tcm_10_r.val())
            | (self.t_tcm_10_s.val() & self.t_tcm_01_r.val())
            | (self.t_tcm_10_r.val() & self.t_tcm_01_r.val());
        self.t_tcm_20_r.next = (self.t_tcm_20_c.val() << 1) | (self.t_tcm_20_c.val() >> 15);
        self.t_tcm_30_s.next = self.t_tcm_20_s.val() ^ self.t_tcm_20_r.val() ^ self.inv_ms.val();
        self.t_tcm_30_c.next = (self.t_tcm_20_s.val() & self.t_tcm_20_r.val())
            | (self.t_tcm_20_s.val() & self.inv_ms.val())
            | (self.t_tcm_20_r.val() & self.inv_ms.val());
        self.t_tcm_30_r.next = (self.t_tcm_30_c.val() << 1) | (self.t_tcm_30_c.val() >> 15);
        self.t_tcm_s.next =
            bit_cast::<17, 16>(self.t_tcm_30_s.val()) + bit_cast::<17, 16>(self.t_tcm_30_r.val());
        self.t_tcm_n.next = !self.t_tcm_30_r.val();
        self.t_tcm_p.next = self.t_tcm_30_s.val() - self.t_tcm_n.val();
        self.t_tcm.next = bit_cast::<16, 17>(self.t_tcm_s.val());
        if self.t_tcm_s.val().get_bit(16) {
            self.t_tcm.next = self.t_tcm_p.val();
        }
        self.t_tc.next = self.t_tcm.val();
        if self.last.val() {
            self.t_tc.next = self.t_tcp.val();
        }
        self.t_inp_00_s.next = self.l2.val() ^ self.inv_as.val() ^ self.k_fff9.val();
        self.t_inp_00_c.next = (self.l2.val() & self.inv_as.val())
            | (self.l2.val() & self.k_fff9.val())
            | (self.inv_as.val() & self.k_fff9.val());
        self.t_inp_00_r.next = (self.t_inp_00_c.val() << 1) | (self.t_inp_00_c.val() >> 15);
        self.t_inp_01_s.next = self.inv_hl.val() ^ self.l4.val() ^ self.inv_pl.val();
        self.t_inp_01_c.next = (self.inv_hl.val() & self.l4.val())
            | (self.inv_hl.val() & self.inv_pl.val())
            | (self.l4.val() & self.inv_pl.val());
        self.t_inp_01_r.next = (self.t_inp_01_c.val() << 1) | (self.t_inp_01_c.val() >> 15);
        self.t_inp_10_s.next =
            self.t_inp_00_s.val() ^ self.t_inp_00_r.val() ^ self.t_inp_01_s.val();
        self.t_inp_10_c.next = (self.t_inp_00_s.val() & self.t_inp_00_r.val())
            | (self.t_inp_00_s.val() & self.t_inp_01_s.val())
            | (self.t_inp_00_r.val() & self.t_inp_01_s.val());
        self.t_inp_10_r.next = (self.t_inp_10_c.val() << 1) | (self.t_inp_10_c.val() >> 15);
        self.t_inp_20_s.next =
            self.t_inp_10_s.val() ^ self.t_inp_10_r.val() ^ self.t_inp_01_r.val();
        self.t_inp_20_c.next = (self.t_inp_10_s.val() & self.t_inp_10_r.val())
            | (self.t_inp_10_s.val() & self.t_inp_01_r.val())
            | (self.t_inp_10_r.val() & self.t_inp_01_r.val());
        self.t_inp_20_r.next = (self.t_inp_20_c.val() << 1) | (self.t_inp_20_c.val() >> 15);
        self.t_inp_s.next =
            bit_cast::<17, 16>(self.t_inp_20_s.val()) + bit_cast::<17, 16>(self.t_inp_20_r.val());
        self.t_inp_n.next = !self.t_inp_20_r.val();
        self.t_inp_p.next = self.t_inp_20_s.val() - self.t_inp_n.val();
        self.t_inp.next = bit_cast::<16, 17>(self.t_inp_s.val());
        if self.t_inp_s.val().get_bit(16) {
            self.t_inp.next = self.t_inp_p.val();
        }
        self.t_inm_00_s.next = self.l2.val() ^ self.inv_as.val() ^ self.k_fff9.val();
        self.t_inm_00_c.next = (self.l2.val() & self.inv_as.val())
            | (self.l2.val() & self.k_fff9.val())
            | (self.inv_as.val() & self.k_fff9.val());
        self.t_inm_00_r.next = (self.t_inm_00_c.val() << 1) | (self.t_inm_00_c.val() >> 15);
        self.t_inm_01_s.next = self.inv_hl.val() ^ self.l4.val() ^ self.inv_ms.val();
        self.t_inm_01_c.next = (self.inv_hl.val() & self.l4.val())
            | (self.inv_hl.val() & self.inv_ms.val())
            | (self.l4.val() & self.inv_ms.val());
        self.t_inm_01_r.next = (self.t_inm_01_c.val() << 1) | (self.t_inm_01_c.val() >> 15);
        self.t_inm_10_s.next =
            self.t_inm_00_s.val() ^ self.t_inm_00_r.val() ^ self.t_inm_01_s.val();
        self.t_inm_10_c.next = (self.t_inm_00_s.val() & self.t_inm_00_r.val())
            | (self.t_inm_00_s.val() & self.t_inm_01_s.val())
            | (self.t_inm_00_r.val() & self.t_inm_01_s.val());
        self.t_inm_10_r.next = (self.t_inm_10_c.val() << 1) | (self.t_inm_10_c.val() >> 15);
        self.t_inm_20_s.next =
            self.t_inm_10_s.val() ^ self.t_inm_10_r.val() ^ self.t_inm_01_r.val();
        self.t_inm_20_c.next = (self.t_inm_10_s.val() & self.t_inm_10_r.val())
            | (self.t_inm_10_s.val() & self.t_inm_01_r.val())
            | (self.t_inm_10_r.val() & self.t_inm_01_r.val());
        self.t_inm_20_r.next = (self.t_inm_20_c.val() << 1) | (self.t_inm_20_c.val() >> 15);
        self.t_inm_s.next =
            bit_cast::<17, 16>(self.t_inm_20_s.val()) + bit_cast::<17, 16>(self.t_inm_20_r.val());
        self.t_inm_n.next = !self.t_inm_20_r.val();
        self.t_inm_p.next = self.t_inm_20_s.val() - self.t_inm_n.val();
        self.t_inm.next = bit_cast::<16, 17>(self.t_inm_s.val());
        if self.t_inm_s.val().get_bit(16) {
            self.t_inm.next = self.t_inm_p.val();
        }
        self.t_in.next = self.t_inm.val();
        if self.last.val() {
            self.t_in.next = self.t_inp.val();
        }
        self.len.next = self.lenm.val();
        self.lm1.next = self.lm1m.val();
        self.tl3.next = self.tl3m.val();
        self.flg.next = self.fm.val();
        self.ipv.next = !self.t_ip.val();
        self.tcp.next = self.t_tc.val();
        self.inner.next = self.t_in.val();
        if self.last.val() {
            self.len.next = self.lenp.val();
            self.lm1.next = self.lm1p.val();
            self.tl3.next = self.tl3p.val();
            self.flg.next = self.fp.val();
        }

        self.f.next = self.r.q.val();
        self.f.next.last = self.last.val();
        self.f.next.len = self.len.val();
        self.f.next.len_m1 = self.lm1.val();
        self.f.next.tl3 = self.tl3.val();
        self.f.next.flags = self.flg.val();
        self.f.next.ip_csum = self.ipv.val();
        self.f.next.tcp_part = self.tcp.val();
        self.f.next.inner_sum = self.inner.val();
        self.r.d.next = self.f.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tso_first_segment_is_synthesizable() {
        let mut uut = TsoFirstSegment::default();
        uut.connect_all();
        yosys_validate("tso_first_segment", &generate_verilog(&uut)).unwrap();
    }
}
