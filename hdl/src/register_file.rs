//! AXI4-Lite register slave whose decode is built from a register table.
//!
//! The table (`overlay_nic_regmap`) is turned into per-register constants
//! (offset, kind, reset value, implemented-bit mask) when the block is
//! constructed; the kernel loops over them, so the Verilog decode is exactly
//! the table, and yosys folds the constants away.
//!
//! One write and one read can be in progress at once, independently. A
//! write is taken when `AWVALID` and `WVALID` are both high (AXI allows a
//! slave to wait for both) and answered on B the next cycle; a read is taken
//! when `ARVALID` is high and answered on R the next cycle with registered
//! data. An access to no register answers DECERR; an unaligned address, a
//! write to a read-only register or a read of a doorbell answers SLVERR.
//! Refused accesses change nothing but the error count and error address,
//! which are themselves registers (kinds `BusErrorCount`/`BusErrorAddress`),
//! updated the cycle after the refusal (when its response is offered).
//!
//! Towards the datapath: `value[i]` is register i's stored value (reset
//! value after configuration); `status[i]` is what a read of a `ReadOnly`
//! register returns; `write_pulse[i]` / `read_pulse[i]` are high for one
//! cycle after a successful write / read of register i (doorbells, pop-on-
//! read queues), with `value[i]` already holding the written data.

use crate::axi_lite::AxiLiteSlave;
use overlay_nic_regmap::{resp, validate, Access, Register};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RegisterFile<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub axil: AxiLiteSlave,
    pub value: [Signal<Out, Bits<32>>; N],
    pub status: [Signal<In, Bits<32>>; N],
    pub write_pulse: [Signal<Out, Bit>; N],
    pub read_pulse: [Signal<Out, Bit>; N],
    store: [DFFWithInit<Bits<32>>; N],
    write_flag: [DFF<Bit>; N],
    read_flag: [DFF<Bit>; N],
    offset: [Constant<Bits<16>>; N],
    reset_value: [Constant<Bits<32>>; N],
    mask: [Constant<Bits<32>>; N],
    is_rw: [Constant<Bit>; N],
    is_ro: [Constant<Bit>; N],
    is_const: [Constant<Bit>; N],
    is_wo: [Constant<Bit>; N],
    is_err_count: [Constant<Bit>; N],
    is_err_addr: [Constant<Bit>; N],
    word_mask: Constant<Bits<16>>,
    byte_mask: Constant<Bits<16>>,
    lane_mask: [Constant<Bits<32>>; 4],
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<2>>,
    rvalid: DFF<Bit>,
    rresp: DFF<Bits<2>>,
    rdata: DFF<Bits<32>>,
    err_count: DFF<Bits<32>>,
    err_addr: DFF<Bits<16>>,
    /// A refused write and a refused read, with their addresses,
    /// registered: they are counted a cycle later, so the address decode
    /// (a compare against every register's offset) does not sit in front
    /// of the error count's adder. The count is still up to date when the
    /// response has been taken.
    e_w: DFF<Bit>,
    e_waddr: DFF<Bits<16>>,
    e_r: DFF<Bit>,
    e_raddr: DFF<Bits<16>>,
    w_go: Signal<Local, Bit>,
    w_hit: Signal<Local, Bit>,
    w_legal: Signal<Local, Bit>,
    w_aligned: Signal<Local, Bit>,
    w_err: Signal<Local, Bit>,
    strobe_mask: Signal<Local, Bits<32>>,
    r_go: Signal<Local, Bit>,
    r_hit: Signal<Local, Bit>,
    r_legal: Signal<Local, Bit>,
    r_aligned: Signal<Local, Bit>,
    r_err: Signal<Local, Bit>,
    r_word: Signal<Local, Bits<32>>,
    /// What a read of register i returns, and that ANDed with its hit.
    r_src: [Signal<Local, Bits<32>>; N],
    r_sel: [Signal<Local, Bits<32>>; N],
    ones: Constant<Bits<32>>,
    errors_now: Signal<Local, Bits<32>>,
    error_inc: Signal<Local, Bits<32>>,
    resp_okay: Constant<Bits<2>>,
    resp_slverr: Constant<Bits<2>>,
    resp_decerr: Constant<Bits<2>>,
}

impl<const N: usize> RegisterFile<N> {
    /// Builds the decode for `table`; panics if the table is malformed or
    /// does not have exactly `N` registers (a build-time configuration
    /// error, never a run-time one).
    pub fn new(table: &[Register]) -> Self {
        assert_eq!(
            table.len(),
            N,
            "RegisterFile<{N}> given {} registers",
            table.len()
        );
        if let Err(e) = validate(table) {
            panic!("RegisterFile: bad register table: {e}");
        }
        let flag = |k: Access| -> [Constant<Bit>; N] {
            std::array::from_fn(|i| Constant::new(table[i].access == k))
        };
        Self {
            clock: Default::default(),
            axil: Default::default(),
            value: std::array::from_fn(|_| Default::default()),
            status: std::array::from_fn(|_| Default::default()),
            write_pulse: std::array::from_fn(|_| Default::default()),
            read_pulse: std::array::from_fn(|_| Default::default()),
            store: std::array::from_fn(|i| {
                let r = &table[i];
                let init = if r.access == Access::ReadWrite {
                    r.reset
                } else {
                    0
                };
                DFFWithInit::new((init as u64).to_bits())
            }),
            write_flag: std::array::from_fn(|_| Default::default()),
            read_flag: std::array::from_fn(|_| Default::default()),
            offset: std::array::from_fn(|i| Constant::new((table[i].offset as u64).to_bits())),
            reset_value: std::array::from_fn(|i| Constant::new((table[i].reset as u64).to_bits())),
            mask: std::array::from_fn(|i| {
                let m = if table[i].access == Access::ReadWrite {
                    table[i].mask
                } else {
                    !0
                };
                Constant::new((m as u64).to_bits())
            }),
            is_rw: flag(Access::ReadWrite),
            is_ro: flag(Access::ReadOnly),
            is_const: flag(Access::Constant),
            is_wo: flag(Access::WriteOnly),
            is_err_count: flag(Access::BusErrorCount),
            is_err_addr: flag(Access::BusErrorAddress),
            word_mask: Constant::new(0xfffc_u64.to_bits()),
            byte_mask: Constant::new(0x0003_u64.to_bits()),
            lane_mask: std::array::from_fn(|j| Constant::new((0xffu64 << (8 * j)).to_bits())),
            bvalid: Default::default(),
            bresp: Default::default(),
            rvalid: Default::default(),
            rresp: Default::default(),
            rdata: Default::default(),
            err_count: Default::default(),
            err_addr: Default::default(),
            e_w: Default::default(),
            e_waddr: Default::default(),
            e_r: Default::default(),
            e_raddr: Default::default(),
            w_go: Default::default(),
            w_hit: Default::default(),
            w_legal: Default::default(),
            w_aligned: Default::default(),
            w_err: Default::default(),
            strobe_mask: Default::default(),
            r_go: Default::default(),
            r_hit: Default::default(),
            r_legal: Default::default(),
            r_aligned: Default::default(),
            r_err: Default::default(),
            r_word: Default::default(),
            r_src: std::array::from_fn(|_| Default::default()),
            r_sel: std::array::from_fn(|_| Default::default()),
            ones: Constant::new(0xffff_ffff_u64.to_bits()),
            errors_now: Default::default(),
            error_inc: Default::default(),
            resp_okay: Constant::new((resp::OKAY as u64).to_bits()),
            resp_slverr: Constant::new((resp::SLVERR as u64).to_bits()),
            resp_decerr: Constant::new((resp::DECERR as u64).to_bits()),
        }
    }
}

impl<const N: usize> Logic for RegisterFile<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, bvalid, bresp, rvalid, rresp, rdata, err_count, err_addr, e_w, e_waddr,
            e_r, e_raddr
        );
        for i in 0..N {
            self.store[i].clock.next = self.clock.val();
            self.store[i].d.next = self.store[i].q.val();
            self.write_flag[i].clock.next = self.clock.val();
            self.write_flag[i].d.next = false;
            self.read_flag[i].clock.next = self.clock.val();
            self.read_flag[i].d.next = false;
            self.value[i].next = self.store[i].q.val();
            self.write_pulse[i].next = self.write_flag[i].q.val();
            self.read_pulse[i].next = self.read_flag[i].q.val();
        }
        self.axil.bvalid.next = self.bvalid.q.val();
        self.axil.bresp.next = self.bresp.q.val();
        self.axil.rvalid.next = self.rvalid.q.val();
        self.axil.rresp.next = self.rresp.q.val();
        self.axil.rdata.next = self.rdata.q.val();

        // ---- Write channel ----
        self.w_go.next = self.axil.awvalid.val() & self.axil.wvalid.val() & !self.bvalid.q.val();
        self.axil.awready.next = self.w_go.val();
        self.axil.wready.next = self.w_go.val();
        self.w_aligned.next = (self.axil.awaddr.val() & self.byte_mask.val()) == 0;
        self.strobe_mask.next = 0.into();
        for j in 0..4 {
            if self.axil.wstrb.val().get_bit(j) {
                self.strobe_mask.next = self.strobe_mask.val() | self.lane_mask[j].val();
            }
        }
        self.w_hit.next = false;
        self.w_legal.next = false;
        for i in 0..N {
            if (self.axil.awaddr.val() & self.word_mask.val()) == self.offset[i].val() {
                self.w_hit.next = true;
                if (self.is_rw[i].val() | self.is_wo[i].val()) & self.w_aligned.val() {
                    self.w_legal.next = true;
                    if self.w_go.val() {
                        self.store[i].d.next = (self.store[i].q.val()
                            & !(self.strobe_mask.val() & self.mask[i].val()))
                            | (self.axil.wdata.val() & self.strobe_mask.val() & self.mask[i].val());
                        self.write_flag[i].d.next = true;
                    }
                }
            }
        }
        self.w_err.next = self.w_go.val() & !self.w_legal.val();
        if self.w_go.val() {
            self.bvalid.d.next = true;
            if self.w_legal.val() {
                self.bresp.d.next = self.resp_okay.val();
            } else if self.w_hit.val() {
                self.bresp.d.next = self.resp_slverr.val();
            } else {
                self.bresp.d.next = self.resp_decerr.val();
            }
        } else if self.axil.bready.val() {
            self.bvalid.d.next = false;
        }

        // ---- Read channel ----
        self.r_go.next = self.axil.arvalid.val() & !self.rvalid.q.val();
        self.axil.arready.next = self.r_go.val();
        self.r_aligned.next = (self.axil.araddr.val() & self.byte_mask.val()) == 0;
        self.r_hit.next = false;
        self.r_legal.next = false;
        // The hits are one-hot (offsets are distinct), so the read data is
        // the OR of every register's word ANDed with its hit: a tree, where
        // an if-chain over the table was a priority mux 40 logic levels
        // deep, the slowest path of the block.
        self.r_word.next = 0.into();
        for i in 0..N {
            self.r_src[i].next = 0.into();
            if self.is_rw[i].val() {
                self.r_src[i].next = self.store[i].q.val();
            }
            if self.is_ro[i].val() {
                self.r_src[i].next = self.status[i].val();
            }
            if self.is_const[i].val() {
                self.r_src[i].next = self.reset_value[i].val();
            }
            if self.is_err_count[i].val() {
                self.r_src[i].next = self.err_count.q.val();
            }
            if self.is_err_addr[i].val() {
                self.r_src[i].next = bit_cast::<32, 16>(self.err_addr.q.val());
            }
            self.r_sel[i].next = 0.into();
            if (self.axil.araddr.val() & self.word_mask.val()) == self.offset[i].val() {
                self.r_hit.next = true;
                if !self.is_wo[i].val() & self.r_aligned.val() {
                    self.r_legal.next = true;
                    if self.r_go.val() {
                        self.read_flag[i].d.next = true;
                    }
                    self.r_sel[i].next = self.ones.val();
                }
            }
            self.r_word.next = self.r_word.val() | (self.r_src[i].val() & self.r_sel[i].val());
        }
        self.r_err.next = self.r_go.val() & !self.r_legal.val();
        if self.r_go.val() {
            self.rvalid.d.next = true;
            self.rdata.d.next = self.r_word.val();
            if self.r_legal.val() {
                self.rresp.d.next = self.resp_okay.val();
            } else if self.r_hit.val() {
                self.rresp.d.next = self.resp_slverr.val();
            } else {
                self.rresp.d.next = self.resp_decerr.val();
            }
        } else if self.axil.rready.val() {
            self.rvalid.d.next = false;
        }

        // ---- Error accounting ----
        // Counted the cycle after the refusal, in the cycle its response is
        // offered: a driver that waits for the response before it reads
        // `BUS_ERRORS` sees it. One adder whatever the errors in a cycle
        // (two in a row were on the critical path); when a write and a read
        // are refused together both count and the write's address is kept.
        self.e_w.d.next = self.w_err.val();
        self.e_waddr.d.next = self.axil.awaddr.val();
        self.e_r.d.next = self.r_err.val();
        self.e_raddr.d.next = self.axil.araddr.val();
        self.error_inc.next = 0.into();
        if self.e_w.q.val() | self.e_r.q.val() {
            self.error_inc.next = 1.into();
        }
        if self.e_w.q.val() & self.e_r.q.val() {
            self.error_inc.next = 2.into();
        }
        if self.e_w.q.val() {
            self.err_addr.d.next = self.e_waddr.q.val();
        } else if self.e_r.q.val() {
            self.err_addr.d.next = self.e_raddr.q.val();
        }
        self.errors_now.next = self.err_count.q.val() + self.error_inc.val();
        self.err_count.d.next = self.errors_now.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_file_is_synthesizable() {
        let mut uut = RegisterFile::<{ overlay_nic_regmap::pf::TABLE.len() }>::new(
            overlay_nic_regmap::pf::TABLE,
        );
        uut.connect_all();
        yosys_validate("register_file", &generate_verilog(&uut)).unwrap();
    }

    #[test]
    #[should_panic(expected = "RegisterFile<4> given")]
    fn register_file_checks_its_table_size() {
        let _ = RegisterFile::<4>::new(overlay_nic_regmap::pf::TABLE);
    }
}
