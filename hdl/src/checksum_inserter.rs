//! Checksum inserter: writes a frame's checksums into it as it streams
//! through (`docs/tx-offload.md`, "Checksum request" and "IPv4 header
//! checksum"), at one beat per clock.
//!
//! The frame's [`ChecksumPatch`] comes on the `patch` port with its first
//! beat (from the `TxChecksumTap` or the `TsoSegmenter`, which know the
//! values before the frame streams) and is held for the frame's other
//! beats; `tuser` (any type: the NIC's `TxDescriptor`, which carries the
//! patch) passes through untouched. Each enabled 16-bit value is written
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
//! The patched beat goes into a two-entry `SkidBuffer`:
//! every output comes from a flip-flop and `s_axis.tready` is registered,
//! so `m_axis.tready` never reaches `s_axis.tready` combinationally. Latency
//! is one cycle; with no back-pressure a beat moves every cycle, frames
//! back to back without a bubble.

use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::ChecksumPatch;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct ChecksumInserter<T: Synth> {
    pub clock: Signal<In, Clock>,
    /// Upstream: the frame (`tuser` passed through).
    pub s_axis: StreamSink<T>,
    /// The frame's patch, read with its first beat.
    pub patch: Signal<In, ChecksumPatch>,
    /// Downstream: the patched frame; every output comes from a flip-flop.
    pub m_axis: StreamSource<T>,
    // ---- Input side: where the next beat is in its frame ----
    in_frame: DFF<Bit>,
    /// Index of the next input beat in its frame (0 between frames).
    idx: DFF<Bits<16>>,
    /// The frame's patch, held after its first beat.
    patch_r: DFF<ChecksumPatch>,
    /// The patched beats' output register and skid slot.
    out: SkidBuffer<T>,
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

impl<T: Synth> Default for ChecksumInserter<T> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            patch: Default::default(),
            m_axis: Default::default(),
            in_frame: Default::default(),
            idx: Default::default(),
            patch_r: Default::default(),
            out: Default::default(),
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

impl<T: Synth> ChecksumInserter<T> {
    /// The inserter (it has no build parameters).
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T: Synth> Logic for ChecksumInserter<T> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, in_frame, idx, patch_r);
        clock!(self, clock, out);
        // Outputs and `tready` are the skid buffer's registers.
        StreamSource::<T>::link(&mut self.m_axis, &mut self.out.m_axis);
        self.s_axis.tready.next = self.out.s_axis.tready.val();
        self.accept.next = self.s_axis.tvalid.val() & self.out.s_axis.tready.val();

        // ---- The frame's patch: from tuser on the first beat, then held ----
        self.cur.next = self.patch_r.q.val();
        if !self.in_frame.q.val() {
            self.cur.next = self.patch.val();
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

        // ---- Into the skid buffer, each input driven once ----
        self.out.s_axis.tvalid.next = self.s_axis.tvalid.val();
        self.out.s_axis.tdata.next = self.data.val();
        self.out.s_axis.tkeep.next = self.s_axis.tkeep.val();
        self.out.s_axis.tlast.next = self.s_axis.tlast.val();
        self.out.s_axis.tuser.next = self.s_axis.tuser.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_inserter_is_synthesizable() {
        let mut uut = ChecksumInserter::<ChecksumPatch>::default();
        uut.connect_all();
        yosys_validate("checksum_inserter", &generate_verilog(&uut)).unwrap();
    }
}
