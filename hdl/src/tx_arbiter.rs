//! TX arbiter: frame-level round robin over the host functions' streams.
//!
//! Input `i` is function `i` (0 = PF, 1 + k = VF k). Once an input's first
//! beat is granted, that input keeps the output until its `tlast` beat has
//! moved; then the next requesting input after it in round-robin order gets
//! the output, decided combinationally in the very next cycle, so there is no
//! bubble between frames while anyone is waiting. The output carries the
//! input's tag plus its index as `function` on every beat of the frame and
//! is registered through a [`SkidBuffer`].
//!
//! ```text
//!  s_axis[0] ──┐  idle: first tvalid after `last`, round robin (one-hot)
//!  s_axis[1] ──┤  busy: `owner` until its tlast moves
//!     ...      ├─▶ one-hot AND-OR mux ──▶ SkidBuffer<TxTagged> ──▶ m_axis
//!  s_axis[NF-1]┘   (tuser + function = index)
//!
//!  cycle      |  t   | t+1  | t+2 | t+3
//!  grant      |  A   |  A   |  B  |  B      A's tlast moves at t+1, B waits:
//!  beat moved | A0   | A1L  | B0  | B1      B's first beat moves at t+2
//! ```
//!
//! The inputs are a plain array port, `[StreamSink<TxHostMeta>; NF]`:
//! rust-hdl simulates it and exports it as `s_axis$0$tdata`, `s_axis$1$...`
//! (tested against the Verilog port list). One limit: a struct field of an
//! array element's port (`self.s_axis[i].tuser.val().vni`) does not
//! translate, so `tuser` is copied to a local first.
//!
//! An input's `tdata`/`tkeep`/`tlast`/`tuser` reach the output (and `tlast`
//! the state) only while that input is granted and its `tvalid` is high;
//! otherwise the mux feeds zeros. An input's `tready` is high only while it
//! is granted and the skid buffer has room; it depends on the other inputs'
//! `tvalid` in the same cycle (AXI4-Stream allows that), never on its own.
//! After power-up `last` is 0, so the first grant goes to input 1 (or the
//! next one waiting).

use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{TxHostMeta, TxTagged};
use rust_hdl::prelude::*;

/// Host functions in the default build: the PF and 4 VFs (`docs/tx-path.md`).
pub const DEFAULT_FUNCTIONS: usize = 5;

/// `NF` inputs, 1..=16 (the function id is 4 bits).
#[derive(LogicBlock)]
pub struct TxArbiter<const NF: usize> {
    pub clock: Signal<In, Clock>,
    /// One stream per host function; index = function id.
    pub s_axis: [StreamSink<TxHostMeta>; NF],
    /// Whole frames, one after the other, tagged with their function.
    pub m_axis: StreamSource<TxTagged>,
    skid: SkidBuffer<TxTagged>,
    /// Inside a frame: the input in `owner` (one-hot) holds the output
    /// until its tlast moves.
    busy: DFF<Bit>,
    owner: DFF<Bits<NF>>,
    /// The input granted most recently; the search starts after it.
    last: DFF<Bits<4>>,
    /// This cycle's grant, one-hot (all zero: nobody).
    grant: Signal<Local, Bits<NF>>,
    found: Signal<Local, Bit>,
    pick: Signal<Local, Bits<4>>,
    // The AND-OR mux's sums.
    valid: Signal<Local, Bit>,
    data: Signal<Local, Bits<64>>,
    keep: Signal<Local, Bits<8>>,
    tlast: Signal<Local, Bit>,
    func_id: Signal<Local, Bits<4>>,
    host: Signal<Local, TxHostMeta>,
    encap: Signal<Local, Bit>,
    vni: Signal<Local, Bits<24>>,
    tag: Signal<Local, TxTagged>,
    moved: Signal<Local, Bit>,
}

impl<const NF: usize> Default for TxArbiter<NF> {
    fn default() -> Self {
        assert!((1..=16).contains(&NF), "TxArbiter: NF {NF} outside 1..=16");
        Self {
            clock: Default::default(),
            s_axis: std::array::from_fn(|_| Default::default()),
            m_axis: Default::default(),
            skid: Default::default(),
            busy: Default::default(),
            owner: Default::default(),
            last: Default::default(),
            grant: Default::default(),
            found: Default::default(),
            pick: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            keep: Default::default(),
            tlast: Default::default(),
            func_id: Default::default(),
            host: Default::default(),
            encap: Default::default(),
            vni: Default::default(),
            tag: Default::default(),
            moved: Default::default(),
        }
    }
}

impl<const NF: usize> Logic for TxArbiter<NF> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, owner, last);
        clock!(self, clock, skid);
        StreamSource::<TxTagged>::link(&mut self.m_axis, &mut self.skid.m_axis);

        // ---- Grant: the owner while busy, else round robin after `last` ----
        self.grant.next = self.owner.q.val();
        self.found.next = self.busy.q.val();
        self.pick.next = self.last.q.val();
        if !self.busy.q.val() {
            self.grant.next = 0.into();
            // Inputs after `last` first, then from 0 (which ends with `last`).
            // (From 1: `last < 0` would be a constant compare, a lint warning.)
            for i in 1..NF {
                if !self.found.val() & self.s_axis[i].tvalid.val() & (self.last.q.val().index() < i)
                {
                    self.found.next = true;
                    self.pick.next = i.to_bits();
                    self.grant.next = self.grant.val().replace_bit(i, true);
                }
            }
            for i in 0..NF {
                if !self.found.val() & self.s_axis[i].tvalid.val() {
                    self.found.next = true;
                    self.pick.next = i.to_bits();
                    self.grant.next = self.grant.val().replace_bit(i, true);
                }
            }
        }

        // ---- One-hot AND-OR mux into the skid buffer: an input counts only
        // while granted and valid; the sums are locals because a child's
        // input reads back its previous value in simulation ----
        self.valid.next = false;
        self.data.next = 0.into();
        self.keep.next = 0.into();
        self.tlast.next = false;
        self.func_id.next = 0.into();
        self.encap.next = false;
        self.vni.next = 0.into();
        self.host.next.encap = false;
        self.host.next.vni = 0.into();
        for i in 0..NF {
            self.s_axis[i].tready.next =
                self.grant.val().get_bit(i) & self.skid.s_axis.tready.val();
            if self.grant.val().get_bit(i) & self.s_axis[i].tvalid.val() {
                self.valid.next = true;
                self.data.next = self.data.val() | self.s_axis[i].tdata.val();
                self.keep.next = self.keep.val() | self.s_axis[i].tkeep.val();
                self.tlast.next = self.tlast.val() | self.s_axis[i].tlast.val();
                self.func_id.next = self.func_id.val() | i.to_bits();
                // rust-hdl cannot take a struct field of an array element's
                // port: copy the struct to a local first.
                self.host.next = self.s_axis[i].tuser.val();
                self.encap.next = self.encap.val() | self.host.val().encap;
                self.vni.next = self.vni.val() | self.host.val().vni;
            }
        }
        self.tag.next.function = self.func_id.val();
        self.tag.next.encap = self.encap.val();
        self.tag.next.vni = self.vni.val();
        self.skid.s_axis.tvalid.next = self.valid.val();
        self.skid.s_axis.tdata.next = self.data.val();
        self.skid.s_axis.tkeep.next = self.keep.val();
        self.skid.s_axis.tlast.next = self.tlast.val();
        self.skid.s_axis.tuser.next = self.tag.val();

        // ---- State: a frame starts with its first moved beat, ends with tlast ----
        self.moved.next = self.valid.val() & self.skid.s_axis.tready.val();
        if self.moved.val() {
            self.busy.d.next = !self.tlast.val();
            self.owner.d.next = self.grant.val();
            self.last.d.next = self.pick.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_arbiter_is_synthesizable() {
        let mut uut = TxArbiter::<DEFAULT_FUNCTIONS>::default();
        uut.connect_all();
        yosys_validate("tx_arbiter", &generate_verilog(&uut)).unwrap();
    }

    #[test]
    fn tx_arbiter_sizes_are_synthesizable() {
        let mut one = TxArbiter::<1>::default();
        one.connect_all();
        yosys_validate("tx_arbiter_1", &generate_verilog(&one)).unwrap();
        let mut sixteen = TxArbiter::<16>::default();
        sixteen.connect_all();
        yosys_validate("tx_arbiter_16", &generate_verilog(&sixteen)).unwrap();
    }
}
