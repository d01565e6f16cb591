//! Checksum inserter: writes a frame's checksums into it as it streams
//! through (`docs/tx-offload.md`, "Checksum request" and "IPv4 header
//! checksum"), at one beat per clock.
//!
//! The frame's [`ChecksumPatch`] comes as `tuser` with its first beat (from
//! the `TxChecksumTap`, which saw the whole frame before) and is held for
//! the frame's other beats. Each enabled 16-bit value is written
//! big-endian at its byte position, so four byte writes, each landing in
//! the beat `pos >> 3` at lane `pos & 7`; the two bytes of one value may
//! sit in two beats:
//!
//! ```text
//!  beat k   | .. | lane 7 = value[15:8] |      (pos = 8k + 7)
//!  beat k+1 | lane 0 = value[7:0] | ..
//! ```
//!
//! The IPv4 value is written first and the L4 value second, so the L4
//! write wins on a byte they share. Everything else, `tkeep`, `tlast` and
//! `tuser` included, passes unchanged.
//!
//! The patched beat goes into a two-entry skid buffer (as `SkidBuffer`):
//! every output comes from a flip-flop and `s_axis.tready` is registered,
//! so `m_axis.tready` never reaches `s_axis.tready` combinationally. Latency
//! is one cycle; with no back-pressure a beat moves every cycle, frames
//! back to back without a bubble.

use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::ChecksumPatch;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct ChecksumInserter {
    pub clock: Signal<In, Clock>,
    /// Upstream: the frame and, with its first beat, its patch.
    pub s_axis: StreamSink<ChecksumPatch>,
    /// Downstream: the patched frame; every output comes from a flip-flop.
    pub m_axis: StreamSource<ChecksumPatch>,
    // ---- Input side: where the next beat is in its frame ----
    in_frame: DFF<Bit>,
    /// Index of the next input beat in its frame (0 between frames).
    idx: DFF<Bits<16>>,
    /// The frame's patch, held after its first beat.
    patch_r: DFF<ChecksumPatch>,
    // ---- Skid buffer ----
    out_valid: DFF<Bit>,
    out_data: DFF<Bits<64>>,
    out_keep: DFF<Bits<8>>,
    out_last: DFF<Bit>,
    out_user: DFF<ChecksumPatch>,
    skid_valid: DFF<Bit>,
    skid_data: DFF<Bits<64>>,
    skid_keep: DFF<Bits<8>>,
    skid_last: DFF<Bit>,
    skid_user: DFF<ChecksumPatch>,
    // ---- Locals ----
    accept: Signal<Local, Bit>,
    cur: Signal<Local, ChecksumPatch>,
    ip_hi: Signal<Local, Bits<16>>,
    ip_lo: Signal<Local, Bits<16>>,
    l4_hi: Signal<Local, Bits<16>>,
    l4_lo: Signal<Local, Bits<16>>,
    ip_val: Signal<Local, Bits<64>>,
    l4_val: Signal<Local, Bits<64>>,
    sh_ip_hi: Signal<Local, Bits<6>>,
    sh_ip_lo: Signal<Local, Bits<6>>,
    sh_l4_hi: Signal<Local, Bits<6>>,
    sh_l4_lo: Signal<Local, Bits<6>>,
    data: Signal<Local, Bits<64>>,
    byte_mask: Constant<Bits<64>>,
}

impl Default for ChecksumInserter {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            m_axis: Default::default(),
            in_frame: Default::default(),
            idx: Default::default(),
            patch_r: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            out_keep: Default::default(),
            out_last: Default::default(),
            out_user: Default::default(),
            skid_valid: Default::default(),
            skid_data: Default::default(),
            skid_keep: Default::default(),
            skid_last: Default::default(),
            skid_user: Default::default(),
            accept: Default::default(),
            cur: Default::default(),
            ip_hi: Default::default(),
            ip_lo: Default::default(),
            l4_hi: Default::default(),
            l4_lo: Default::default(),
            ip_val: Default::default(),
            l4_val: Default::default(),
            sh_ip_hi: Default::default(),
            sh_ip_lo: Default::default(),
            sh_l4_hi: Default::default(),
            sh_l4_lo: Default::default(),
            data: Default::default(),
            byte_mask: Constant::new(0xffu64.to_bits()),
        }
    }
}

impl ChecksumInserter {
    /// The inserter (it has no build parameters).
    pub fn new() -> Self {
        Self::default()
    }
}

impl Logic for ChecksumInserter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, in_frame, idx, patch_r, out_valid, out_data, out_keep, out_last, out_user,
            skid_valid, skid_data, skid_keep, skid_last, skid_user
        );
        // Every port driven once, from a flip-flop.
        self.m_axis.tvalid.next = self.out_valid.q.val();
        self.m_axis.tdata.next = self.out_data.q.val();
        self.m_axis.tkeep.next = self.out_keep.q.val();
        self.m_axis.tlast.next = self.out_last.q.val();
        self.m_axis.tuser.next = self.out_user.q.val();
        self.s_axis.tready.next = !self.skid_valid.q.val();
        self.accept.next = self.s_axis.tvalid.val() & !self.skid_valid.q.val();

        // ---- The frame's patch: from tuser on the first beat, then held ----
        self.cur.next = self.patch_r.q.val();
        if !self.in_frame.q.val() {
            self.cur.next = self.s_axis.tuser.val();
        }
        self.ip_hi.next = self.cur.val().ip_pos;
        self.ip_lo.next = self.ip_hi.val() + 1;
        self.l4_hi.next = self.cur.val().l4_pos;
        self.l4_lo.next = self.l4_hi.val() + 1;
        self.ip_val.next = bit_cast::<64, 16>(self.cur.val().ip_value);
        self.l4_val.next = bit_cast::<64, 16>(self.cur.val().l4_value);
        self.sh_ip_hi.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.ip_hi.val())) << 3;
        self.sh_ip_lo.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.ip_lo.val())) << 3;
        self.sh_l4_hi.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.l4_hi.val())) << 3;
        self.sh_l4_lo.next = bit_cast::<6, 3>(bit_cast::<3, 16>(self.l4_lo.val())) << 3;

        // ---- The four byte writes, IPv4 first ----
        self.data.next = self.s_axis.tdata.val();
        if self.cur.val().ip_en & ((self.ip_hi.val() >> 3) == self.idx.q.val()) {
            self.data.next = (self.data.val() & !(self.byte_mask.val() << self.sh_ip_hi.val()))
                | ((self.ip_val.val() >> 8) << self.sh_ip_hi.val());
        }
        if self.cur.val().ip_en & ((self.ip_lo.val() >> 3) == self.idx.q.val()) {
            self.data.next = (self.data.val() & !(self.byte_mask.val() << self.sh_ip_lo.val()))
                | ((self.ip_val.val() & self.byte_mask.val()) << self.sh_ip_lo.val());
        }
        if self.cur.val().l4_en & ((self.l4_hi.val() >> 3) == self.idx.q.val()) {
            self.data.next = (self.data.val() & !(self.byte_mask.val() << self.sh_l4_hi.val()))
                | ((self.l4_val.val() >> 8) << self.sh_l4_hi.val());
        }
        if self.cur.val().l4_en & ((self.l4_lo.val() >> 3) == self.idx.q.val()) {
            self.data.next = (self.data.val() & !(self.byte_mask.val() << self.sh_l4_lo.val()))
                | ((self.l4_val.val() & self.byte_mask.val()) << self.sh_l4_lo.val());
        }

        // ---- Input beat bookkeeping ----
        if self.accept.val() {
            self.in_frame.d.next = !self.s_axis.tlast.val();
            self.idx.d.next = self.idx.q.val() + 1;
            if self.s_axis.tlast.val() {
                self.idx.d.next = 0.into();
            }
            self.patch_r.d.next = self.cur.val();
        }

        // ---- Skid buffer (as skid_buffer.rs) ----
        if self.m_axis.tready.val() | !self.out_valid.q.val() {
            if self.skid_valid.q.val() {
                self.out_valid.d.next = true;
                self.out_data.d.next = self.skid_data.q.val();
                self.out_keep.d.next = self.skid_keep.q.val();
                self.out_last.d.next = self.skid_last.q.val();
                self.out_user.d.next = self.skid_user.q.val();
                self.skid_valid.d.next = false;
            } else {
                self.out_valid.d.next = self.accept.val();
                self.out_data.d.next = self.data.val();
                self.out_keep.d.next = self.s_axis.tkeep.val();
                self.out_last.d.next = self.s_axis.tlast.val();
                self.out_user.d.next = self.s_axis.tuser.val();
            }
        } else if self.accept.val() {
            self.skid_valid.d.next = true;
            self.skid_data.d.next = self.data.val();
            self.skid_keep.d.next = self.s_axis.tkeep.val();
            self.skid_last.d.next = self.s_axis.tlast.val();
            self.skid_user.d.next = self.s_axis.tuser.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_inserter_is_synthesizable() {
        let mut uut = ChecksumInserter::default();
        uut.connect_all();
        yosys_validate("checksum_inserter", &generate_verilog(&uut)).unwrap();
    }
}
