//! AXI4-Lite slave for every VF's BAR0 (`overlay_nic_regmap::vf`).
//!
//! The PCIe endpoint routes a memory access that hit VF i's BAR0 to this
//! port at `i * vf::BAR_SIZE + offset` (bits 15:12 the VF, 11:0 the
//! offset), so the VF number comes from the endpoint, never from the VF. A
//! VF's window holds identification, its own bus-error count and address,
//! and a read-only copy of its own function block (without the VNI).
//! Nothing else is decoded: the mapping table, the VTEP and the other
//! functions do not exist on this port, so a tenant's driver cannot reach
//! them whatever address it tries.
//!
//! Responses follow the PF's `RegisterFile`: a read of a register answers
//! OKAY with registered data the next cycle; any write to a register
//! answers SLVERR (nothing here is writable from a VF: its MAC, MTU and
//! VNI change only through the PF driver); an address with no register,
//! or a VF the build lacks, answers DECERR; an unaligned address SLVERR.
//! Each refusal is counted in the addressed VF's own error registers.

use crate::axi_lite::AxiLiteSlave;
use overlay_nic_regmap::{pf, resp, vf, Register};
use rust_hdl::prelude::*;

/// Function-block registers a VF window shows (all but `VNI`). The kernel
/// indexes `mirror` as `(f - 1) * 20 + k` for function f; [`VfRegisterFile::new`]
/// checks it.
pub const VF_MIRROR_REGISTERS: usize = 20;

/// The function-block registers a VF window shows, in `mirror` order.
pub fn vf_mirror_table() -> Vec<Register> {
    pf::function::TABLE
        .iter()
        .filter(|r| vf::shows(r))
        .copied()
        .collect()
}

/// `NF` functions (the PF and `NF - 1` VFs, as the NIC counts them); `VM`
/// = `(NF - 1) * VF_MIRROR_REGISTERS` mirror inputs (rust-hdl needs it as
/// its own constant). Per-VF arrays are indexed by function number (VF v
/// at `v + 1`); entry 0 is unused and synthesizes to nothing.
#[derive(LogicBlock)]
pub struct VfRegisterFile<const NF: usize, const VM: usize> {
    pub clock: Signal<In, Clock>,
    /// The VF register port (bits 15:12 the VF, 11:0 the offset in its BAR).
    pub axil: AxiLiteSlave,
    /// VF v's copy of function-block register k (in [`vf_mirror_table`]
    /// order) at `v * VF_MIRROR_REGISTERS + k`: the values the PF BAR shows.
    pub mirror: [Signal<In, Bits<32>>; VM],
    vf_id: [Constant<Bits<4>>; NF],
    mirror_offset: [Constant<Bits<12>>; VF_MIRROR_REGISTERS],
    id_offset: Constant<Bits<12>>,
    id_value: Constant<Bits<32>>,
    version_offset: Constant<Bits<12>>,
    version_value: Constant<Bits<32>>,
    errors_offset: Constant<Bits<12>>,
    error_addr_offset: Constant<Bits<12>>,
    word_mask: Constant<Bits<12>>,
    err_count: [DFF<Bits<32>>; NF],
    err_addr: [DFF<Bits<32>>; NF],
    /// A refused write and a refused read, with their VF and offset,
    /// registered: they are counted a cycle later, so the address decode
    /// does not sit in front of every error register's clock enable. The
    /// count is still up to date when the response has been taken.
    e_w: DFF<Bit>,
    e_wvf: DFF<Bits<4>>,
    e_woff: DFF<Bits<12>>,
    e_r: DFF<Bit>,
    e_rvf: DFF<Bits<4>>,
    e_roff: DFF<Bits<12>>,
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<2>>,
    rvalid: DFF<Bit>,
    rresp: DFF<Bits<2>>,
    rdata: DFF<Bits<32>>,
    w_go: Signal<Local, Bit>,
    w_vf: Signal<Local, Bits<4>>,
    w_off: Signal<Local, Bits<12>>,
    w_hit: Signal<Local, Bit>,
    r_go: Signal<Local, Bit>,
    r_vf: Signal<Local, Bits<4>>,
    r_off: Signal<Local, Bits<12>>,
    r_hit: Signal<Local, Bit>,
    r_aligned: Signal<Local, Bit>,
    r_word: Signal<Local, Bits<32>>,
    r_err: Signal<Local, Bit>,
    w_err_v: Signal<Local, Bit>,
    r_err_v: Signal<Local, Bit>,
    resp_okay: Constant<Bits<2>>,
    resp_slverr: Constant<Bits<2>>,
    resp_decerr: Constant<Bits<2>>,
}

impl<const NF: usize, const VM: usize> VfRegisterFile<NF, VM> {
    /// Panics unless there are 1 to `pf::MAX_VFS` VFs and `VM == (NF - 1) *
    /// 20` (build-time configuration errors).
    pub fn new() -> Self {
        assert!(
            (2..=pf::MAX_VFS + 1).contains(&NF),
            "VfRegisterFile: {NF} functions, 2..={} allowed (at least one VF)",
            pf::MAX_VFS + 1
        );
        assert_eq!(
            VM,
            (NF - 1) * VF_MIRROR_REGISTERS,
            "VfRegisterFile: VM must be (NF - 1) * 20"
        );
        let mirror = vf_mirror_table();
        assert_eq!(mirror.len(), VF_MIRROR_REGISTERS);
        let table = vf::table();
        assert_eq!(table.len(), vf::TABLE.len() + VF_MIRROR_REGISTERS);
        let off = |r: &Register| Constant::new((r.offset as u64).to_bits());
        Self {
            clock: Default::default(),
            axil: Default::default(),
            mirror: std::array::from_fn(|_| Default::default()),
            vf_id: std::array::from_fn(|f| Constant::new((f.saturating_sub(1) as u64).to_bits())),
            mirror_offset: std::array::from_fn(|k| off(&vf::function_register(&mirror[k]))),
            id_offset: off(&vf::ID),
            id_value: Constant::new((vf::ID.reset as u64).to_bits()),
            version_offset: off(&vf::VERSION),
            version_value: Constant::new((vf::VERSION.reset as u64).to_bits()),
            errors_offset: off(&vf::BUS_ERRORS),
            error_addr_offset: off(&vf::BUS_ERROR_ADDR),
            word_mask: Constant::new(0xffc_u64.to_bits()),
            err_count: std::array::from_fn(|_| Default::default()),
            err_addr: std::array::from_fn(|_| Default::default()),
            e_w: Default::default(),
            e_wvf: Default::default(),
            e_woff: Default::default(),
            e_r: Default::default(),
            e_rvf: Default::default(),
            e_roff: Default::default(),
            bvalid: Default::default(),
            bresp: Default::default(),
            rvalid: Default::default(),
            rresp: Default::default(),
            rdata: Default::default(),
            w_go: Default::default(),
            w_vf: Default::default(),
            w_off: Default::default(),
            w_hit: Default::default(),
            r_go: Default::default(),
            r_vf: Default::default(),
            r_off: Default::default(),
            r_hit: Default::default(),
            r_aligned: Default::default(),
            r_word: Default::default(),
            r_err: Default::default(),
            w_err_v: Default::default(),
            r_err_v: Default::default(),
            resp_okay: Constant::new((resp::OKAY as u64).to_bits()),
            resp_slverr: Constant::new((resp::SLVERR as u64).to_bits()),
            resp_decerr: Constant::new((resp::DECERR as u64).to_bits()),
        }
    }
}

impl<const NF: usize, const VM: usize> Default for VfRegisterFile<NF, VM> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const NF: usize, const VM: usize> Logic for VfRegisterFile<NF, VM> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, e_w, e_wvf, e_woff, e_r, e_rvf, e_roff, bvalid, bresp, rvalid, rresp,
            rdata
        );
        for v in 0..NF {
            self.err_count[v].clock.next = self.clock.val();
            self.err_count[v].d.next = self.err_count[v].q.val();
            self.err_addr[v].clock.next = self.clock.val();
            self.err_addr[v].d.next = self.err_addr[v].q.val();
        }
        self.axil.bvalid.next = self.bvalid.q.val();
        self.axil.bresp.next = self.bresp.q.val();
        self.axil.rvalid.next = self.rvalid.q.val();
        self.axil.rresp.next = self.rresp.q.val();
        self.axil.rdata.next = self.rdata.q.val();

        // ---- Write channel: nothing is writable ----
        self.w_go.next = self.axil.awvalid.val() & self.axil.wvalid.val() & !self.bvalid.q.val();
        self.axil.awready.next = self.w_go.val();
        self.axil.wready.next = self.w_go.val();
        self.w_vf.next = self.axil.awaddr.val().get_bits::<4>(12);
        self.w_off.next = self.axil.awaddr.val().get_bits::<12>(0);
        self.w_hit.next = false;
        for v in 1..NF {
            if self.w_vf.val() == self.vf_id[v].val() {
                for k in 0..VF_MIRROR_REGISTERS {
                    if (self.w_off.val() & self.word_mask.val()) == self.mirror_offset[k].val() {
                        self.w_hit.next = true;
                    }
                }
                if ((self.w_off.val() & self.word_mask.val()) == self.id_offset.val())
                    | ((self.w_off.val() & self.word_mask.val()) == self.version_offset.val())
                    | ((self.w_off.val() & self.word_mask.val()) == self.errors_offset.val())
                    | ((self.w_off.val() & self.word_mask.val()) == self.error_addr_offset.val())
                {
                    self.w_hit.next = true;
                }
            }
        }
        if self.w_go.val() {
            self.bvalid.d.next = true;
            if self.w_hit.val() {
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
        self.r_vf.next = self.axil.araddr.val().get_bits::<4>(12);
        self.r_off.next = self.axil.araddr.val().get_bits::<12>(0);
        self.r_aligned.next = self.axil.araddr.val().get_bits::<2>(0) == 0;
        self.r_hit.next = false;
        // At most one register matches (one VF, one offset), so the read
        // data is an OR of the matches: an AND-OR tree, not an 88-deep
        // priority chain.
        self.r_word.next = 0.into();
        for v in 1..NF {
            if self.r_vf.val() == self.vf_id[v].val() {
                for k in 0..VF_MIRROR_REGISTERS {
                    if (self.r_off.val() & self.word_mask.val()) == self.mirror_offset[k].val() {
                        self.r_hit.next = true;
                        self.r_word.next = self.r_word.val() | self.mirror[v * 20 + k - 20].val();
                    }
                }
                if (self.r_off.val() & self.word_mask.val()) == self.id_offset.val() {
                    self.r_hit.next = true;
                    self.r_word.next = self.r_word.val() | self.id_value.val();
                }
                if (self.r_off.val() & self.word_mask.val()) == self.version_offset.val() {
                    self.r_hit.next = true;
                    self.r_word.next = self.r_word.val() | self.version_value.val();
                }
                if (self.r_off.val() & self.word_mask.val()) == self.errors_offset.val() {
                    self.r_hit.next = true;
                    self.r_word.next = self.r_word.val() | self.err_count[v].q.val();
                }
                if (self.r_off.val() & self.word_mask.val()) == self.error_addr_offset.val() {
                    self.r_hit.next = true;
                    self.r_word.next = self.r_word.val() | self.err_addr[v].q.val();
                }
            }
        }

        // ---- Error accounting, per VF: every write is refused, and so is
        // a read that hit nothing or was unaligned. When both come in one
        // cycle both count and the write's address is kept. Counted the
        // cycle after, in the cycle the response is offered: a driver that
        // waits for the response before it reads `BUS_ERRORS` sees it.
        self.r_err.next = self.r_go.val() & !(self.r_hit.val() & self.r_aligned.val());
        self.e_w.d.next = self.w_go.val();
        self.e_wvf.d.next = self.w_vf.val();
        self.e_woff.d.next = self.w_off.val();
        self.e_r.d.next = self.r_err.val();
        self.e_rvf.d.next = self.r_vf.val();
        self.e_roff.d.next = self.r_off.val();
        for v in 1..NF {
            self.w_err_v.next = self.e_w.q.val() & (self.e_wvf.q.val() == self.vf_id[v].val());
            self.r_err_v.next = self.e_r.q.val() & (self.e_rvf.q.val() == self.vf_id[v].val());
            if self.w_err_v.val() & self.r_err_v.val() {
                self.err_count[v].d.next = self.err_count[v].q.val() + 2;
            } else if self.w_err_v.val() | self.r_err_v.val() {
                self.err_count[v].d.next = self.err_count[v].q.val() + 1;
            }
            if self.w_err_v.val() {
                self.err_addr[v].d.next = bit_cast::<32, 12>(self.e_woff.q.val());
            } else if self.r_err_v.val() {
                self.err_addr[v].d.next = bit_cast::<32, 12>(self.e_roff.q.val());
            }
        }
        if self.r_go.val() {
            self.rvalid.d.next = true;
            if self.r_hit.val() & self.r_aligned.val() {
                self.rresp.d.next = self.resp_okay.val();
                self.rdata.d.next = self.r_word.val();
            } else if self.r_hit.val() {
                self.rresp.d.next = self.resp_slverr.val();
                self.rdata.d.next = 0.into();
            } else {
                self.rresp.d.next = self.resp_decerr.val();
                self.rdata.d.next = 0.into();
            }
        } else if self.axil.rready.val() {
            self.rvalid.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vf_register_file_is_synthesizable() {
        let mut uut = VfRegisterFile::<5, 80>::new();
        uut.connect_all();
        yosys_validate("vf_register_file", &generate_verilog(&uut)).unwrap();
    }

    #[test]
    #[should_panic(expected = "VM must be (NF - 1) * 20")]
    fn vf_register_file_checks_its_mirror_size() {
        let _ = VfRegisterFile::<5, 21>::new();
    }
}
