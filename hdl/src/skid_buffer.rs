//! Two-entry skid buffer: registers every forward signal and `tready`.
//!
//! Cuts the combinational `tready` path between pipeline stages (which also
//! keeps rust-hdl's settle loop from diverging on long ready chains) while
//! still moving one beat per clock: when the downstream stalls, the beat
//! already accepted upstream lands in the skid register instead of being
//! lost, and upstream sees `tready` drop one cycle later.

use crate::stream::{StreamSink, StreamSource};
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct SkidBuffer<M: Synth> {
    pub clock: Signal<In, Clock>,
    /// Upstream side.
    pub s_axis: StreamSink<M>,
    /// Downstream side; every output comes straight from a flip-flop.
    pub m_axis: StreamSource<M>,
    out_valid: DFF<Bit>,
    out_data: DFF<Bits<64>>,
    out_keep: DFF<Bits<8>>,
    out_last: DFF<Bit>,
    out_user: DFF<M>,
    skid_valid: DFF<Bit>,
    skid_data: DFF<Bits<64>>,
    skid_keep: DFF<Bits<8>>,
    skid_last: DFF<Bit>,
    skid_user: DFF<M>,
    accept: Signal<Local, Bit>,
}

impl<M: Synth> Logic for SkidBuffer<M> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, out_valid, out_data, out_keep, out_last, out_user, skid_valid, skid_data,
            skid_keep, skid_last, skid_user
        );
        self.m_axis.tvalid.next = self.out_valid.q.val();
        self.m_axis.tdata.next = self.out_data.q.val();
        self.m_axis.tkeep.next = self.out_keep.q.val();
        self.m_axis.tlast.next = self.out_last.q.val();
        self.m_axis.tuser.next = self.out_user.q.val();
        // Registered ready: we can take a beat whenever the skid slot is free.
        self.s_axis.tready.next = !self.skid_valid.q.val();
        self.accept.next = self.s_axis.tvalid.val() & !self.skid_valid.q.val();
        if self.m_axis.tready.val() | !self.out_valid.q.val() {
            // The output register is free at this edge.
            if self.skid_valid.q.val() {
                self.out_valid.d.next = true;
                self.out_data.d.next = self.skid_data.q.val();
                self.out_keep.d.next = self.skid_keep.q.val();
                self.out_last.d.next = self.skid_last.q.val();
                self.out_user.d.next = self.skid_user.q.val();
                self.skid_valid.d.next = false;
            } else {
                self.out_valid.d.next = self.accept.val();
                self.out_data.d.next = self.s_axis.tdata.val();
                self.out_keep.d.next = self.s_axis.tkeep.val();
                self.out_last.d.next = self.s_axis.tlast.val();
                self.out_user.d.next = self.s_axis.tuser.val();
            }
        } else if self.accept.val() {
            // Output stalled: park the beat upstream already handed us.
            self.skid_valid.d.next = true;
        }
        // The skid slot's contents matter only while skid_valid is set, so
        // it follows the input whenever the slot is free: its clock enable
        // is then a flip-flop, not the downstream's tready (which in the
        // NIC crosses blocks and drives every bit of the beat).
        if !self.skid_valid.q.val() {
            self.skid_data.d.next = self.s_axis.tdata.val();
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
    fn skid_buffer_is_synthesizable() {
        let mut uut = SkidBuffer::<Bits<16>>::default();
        uut.connect_all();
        let vlog = generate_verilog(&uut);
        yosys_validate("skid_buffer", &vlog).unwrap();
    }
}
