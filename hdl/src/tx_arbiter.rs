//! TX arbiter: frame-level round robin over the host functions' streams.
//!
//! Input `i` is function `i` (0 = PF, 1 + k = VF k). Once an input's first
//! beat has moved, that input keeps the output until its `tlast` beat has
//! moved; in that same cycle the grant passes to the next input after it in
//! round-robin order whose `tvalid` is high, whose first beat can then move
//! in the very next cycle: no bubble between frames while anyone is
//! waiting. If nobody else is waiting the grant stays where it is (parked),
//! so one busy input alone also sends frames back to back. The output
//! carries the input's tag plus its index as `function` on every beat of the
//! frame and is registered through a [`SkidBuffer`].
//!
//! ```text
//!  s_axis[0] ──┐   grant (one-hot register) ── tready[i] = grant[i] & room
//!  s_axis[1] ──┤
//!     ...      ├─▶ AND-OR mux (grant[i] & tvalid[i]) ─▶ SkidBuffer<TxTagged> ─▶ m_axis
//!  s_axis[NF-1]┘
//!        tvalid[*] ─▶ round robin after grant_id ─▶ grant (at tlast, or when
//!                                                   the granted input is idle)
//!
//!  cycle      |  t   | t+1  | t+2 | t+3
//!  grant      |  A   |  A   |  B  |  B      A's tlast moves at t+1 with B
//!  beat moved | A0   | A1L  | B0  | B1      waiting: B's first beat at t+2
//! ```
//!
//! The grant is a register, so the mux select and every input's `tready`
//! come from flip-flops and the round-robin logic only feeds the grant
//! register: nextpnr-ecp5 (LFE5U-25F, out of context, ports registered)
//! gives about 175 MHz at speed grade 6 and 245 MHz at grade 8, where a
//! combinational grant reached 115 and 155 MHz, short of the 156 MHz
//! target. The price: between frames, when the granted input has nothing and
//! another input raises `tvalid`, the grant moves to it at the next edge and
//! its first beat moves one cycle after it asked (never later while the
//! output has room). For the same reason, a parked input whose next frame
//! arrives in the same cycle as another input's goes first.
//!
//! The inputs are a plain array port, `[StreamSink<TxHostMeta>; NF]`:
//! rust-hdl simulates it and exports it as `s_axis$0$tdata`, `s_axis$1$...`
//! (tested against the Verilog port list). One limit: a struct field of an
//! array element's port (`self.s_axis[i].tuser.val().vni`) does not
//! translate, so `tuser` is copied to a local first.
//!
//! An input's `tdata`/`tkeep`/`tlast`/`tuser` reach the output (and `tlast`
//! the state) only while that input is granted and its `tvalid` is high;
//! otherwise the mux feeds zeros. After power-up nobody holds the grant and
//! the round robin starts after input 0, so the first grant goes to input 1
//! (or the next one waiting).

use crate::skid_buffer::SkidBuffer;
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{TxHostMeta, TxOffloadRequest, TxTagged};
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
    /// The input that may send (one-hot; all zero only after power-up) and
    /// its index, which is also the round-robin pointer.
    grant: DFF<Bits<NF>>,
    grant_id: DFF<Bits<4>>,
    /// A frame is under way: the grant stays until its tlast moves.
    started: DFF<Bit>,
    // Round-robin pick among the inputs valid now (feeds `grant` only).
    found: Signal<Local, Bit>,
    pick: Signal<Local, Bits<NF>>,
    pick_id: Signal<Local, Bits<4>>,
    // The AND-OR mux's sums.
    valid: Signal<Local, Bit>,
    data: Signal<Local, Bits<64>>,
    keep: Signal<Local, Bits<8>>,
    tlast: Signal<Local, Bit>,
    host: Signal<Local, TxHostMeta>,
    encap: Signal<Local, Bit>,
    vni: Signal<Local, Bits<24>>,
    tag: Signal<Local, TxTagged>,
    req: Signal<Local, TxOffloadRequest>,
    off: Signal<Local, TxOffloadRequest>,
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
            grant: Default::default(),
            grant_id: Default::default(),
            started: Default::default(),
            found: Default::default(),
            pick: Default::default(),
            pick_id: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            keep: Default::default(),
            tlast: Default::default(),
            host: Default::default(),
            encap: Default::default(),
            vni: Default::default(),
            tag: Default::default(),
            req: Default::default(),
            off: Default::default(),
            moved: Default::default(),
        }
    }
}

impl<const NF: usize> Logic for TxArbiter<NF> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, grant, grant_id, started);
        clock!(self, clock, skid);
        StreamSource::<TxTagged>::link(&mut self.m_axis, &mut self.skid.m_axis);

        // ---- Round robin: the first valid input after `grant_id`, which
        // itself comes last. Only the grant register uses this. ----
        self.found.next = false;
        self.pick.next = 0.into();
        self.pick_id.next = 0.into();
        // (From 1: `grant_id < 0` would be a constant compare, a lint warning.)
        for i in 1..NF {
            if !self.found.val() & self.s_axis[i].tvalid.val() & (self.grant_id.q.val().index() < i)
            {
                self.found.next = true;
                self.pick.next = self.pick.val().replace_bit(i, true);
                self.pick_id.next = i.to_bits();
            }
        }
        for i in 0..NF {
            if !self.found.val() & self.s_axis[i].tvalid.val() {
                self.found.next = true;
                self.pick.next = self.pick.val().replace_bit(i, true);
                self.pick_id.next = i.to_bits();
            }
        }

        // ---- Datapath: the granted input, counted only while valid, through
        // a one-hot AND-OR mux. The sums are locals: a child's input reads
        // back its previous value in simulation. ----
        self.valid.next = false;
        self.data.next = 0.into();
        self.keep.next = 0.into();
        self.tlast.next = false;
        self.encap.next = false;
        self.vni.next = 0.into();
        self.host.next = self.s_axis[0].tuser.val();
        self.req.next = self.host.val().offload;
        self.off.next.csum = false;
        self.off.next.csum_start = 0.into();
        self.off.next.csum_offset = 0.into();
        self.off.next.ip_csum = false;
        self.off.next.tso = false;
        self.off.next.mss = 0.into();
        for i in 0..NF {
            // Registered: grant and the skid buffer's ready are flip-flops.
            self.s_axis[i].tready.next =
                self.grant.q.val().get_bit(i) & self.skid.s_axis.tready.val();
            if self.grant.q.val().get_bit(i) & self.s_axis[i].tvalid.val() {
                self.valid.next = true;
                self.data.next = self.data.val() | self.s_axis[i].tdata.val();
                self.keep.next = self.keep.val() | self.s_axis[i].tkeep.val();
                self.tlast.next = self.tlast.val() | self.s_axis[i].tlast.val();
                // rust-hdl cannot take a struct field of an array element's
                // port: copy the struct to a local first.
                self.host.next = self.s_axis[i].tuser.val();
                self.encap.next = self.encap.val() | self.host.val().encap;
                self.vni.next = self.vni.val() | self.host.val().vni;
                self.req.next = self.host.val().offload;
                self.off.next.csum = self.off.val().csum | self.req.val().csum;
                self.off.next.csum_start = self.off.val().csum_start | self.req.val().csum_start;
                self.off.next.csum_offset = self.off.val().csum_offset | self.req.val().csum_offset;
                self.off.next.ip_csum = self.off.val().ip_csum | self.req.val().ip_csum;
                self.off.next.tso = self.off.val().tso | self.req.val().tso;
                self.off.next.mss = self.off.val().mss | self.req.val().mss;
            }
        }
        self.tag.next.function = self.grant_id.q.val();
        self.tag.next.encap = self.encap.val();
        self.tag.next.vni = self.vni.val();
        self.tag.next.offload = self.off.val();
        self.skid.s_axis.tvalid.next = self.valid.val();
        self.skid.s_axis.tdata.next = self.data.val();
        self.skid.s_axis.tkeep.next = self.keep.val();
        self.skid.s_axis.tlast.next = self.tlast.val();
        self.skid.s_axis.tuser.next = self.tag.val();

        // ---- The grant for the next cycle ----
        self.moved.next = self.valid.val() & self.skid.s_axis.tready.val();
        if self.moved.val() {
            self.started.d.next = !self.tlast.val();
            if self.tlast.val() {
                // Frame over: the next input waiting after this one; if none,
                // this one keeps the grant (its own tvalid is high now) so
                // its next frame can follow without a gap.
                self.grant.d.next = self.pick.val();
                self.grant_id.d.next = self.pick_id.val();
            }
        } else if !self.started.q.val() & !self.valid.val() & self.found.val() {
            // Between frames and the granted input has nothing: hand the
            // grant to whoever waits (it may send from the next cycle).
            self.grant.d.next = self.pick.val();
            self.grant_id.d.next = self.pick_id.val();
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
