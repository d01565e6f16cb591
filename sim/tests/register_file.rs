//! RegisterFile against the driver model's behavioural register slave
//! (`RegisterFileModel`) over random accesses (legal, refused, unaligned,
//! unmapped; random byte strobes) with random bus stalls; and one driver-level
//! test run on both back ends.

use overlay_nic_driver::registers::{
    BusError, RegisterBus, RegisterError, RegisterFileModel, Registers,
};
use overlay_nic_hdl::RegisterFile;
use overlay_nic_regmap::{pf, resp, Access, Register};
use overlay_nic_sim::axil::{AxiLiteHost, HdlRegisterBus};
use overlay_nic_sim::DirectSim;
use proptest::prelude::*;
use rust_hdl::prelude::*;

const fn reg(name: &'static str, offset: u32, access: Access, reset: u32, mask: u32) -> Register {
    Register {
        name,
        offset,
        access,
        reset,
        mask,
        doc: "",
    }
}

/// One register of every kind, so every decode path is exercised.
const TABLE: &[Register] = &[
    reg("CONST", 0x00, Access::Constant, 0xdead_beef, !0),
    reg("RW_FULL", 0x04, Access::ReadWrite, 0x1234_5678, !0),
    reg("RW_PART", 0x08, Access::ReadWrite, 0x0000_00a5, 0x0001_f0ff),
    reg("STATUS", 0x0c, Access::ReadOnly, 0, !0),
    reg("DOORBELL", 0x10, Access::WriteOnly, 0, !0),
    reg("ERRORS", 0x40, Access::BusErrorCount, 0, !0),
    reg("ERR_ADDR", 0x44, Access::BusErrorAddress, 0, !0),
];
const N: usize = 7;
const STATUS: usize = 3;
const DOORBELL: usize = 4;
const STATUS_VALUE: u32 = 0x5a5a_0001;

#[derive(Clone, Debug)]
enum Op {
    Write { addr: u16, data: u32, strb: u8 },
    Read { addr: u16 },
}

fn addr_strategy() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => prop::sample::select(TABLE.iter().map(|r| r.offset as u16).collect::<Vec<_>>()),
        1 => 0u16..0x50, // unaligned and unmapped neighbours
        1 => any::<u16>(),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (addr_strategy(), any::<u32>(), 0u8..16).prop_map(|(addr, data, strb)| Op::Write {
            addr,
            data,
            strb
        }),
        addr_strategy().prop_map(|addr| Op::Read { addr }),
    ]
}

type Uut = RegisterFile<N>;

fn new_sim() -> DirectSim<Uut> {
    let mut uut = Uut::new(TABLE);
    uut.status[STATUS].next = (STATUS_VALUE as u64).to_bits();
    DirectSim::new(uut, |u| &mut u.clock).unwrap()
}

fn port(u: &mut Uut) -> &mut overlay_nic_hdl::AxiLiteSlave {
    &mut u.axil
}

/// Runs `ops` and checks every response, every read value and every stored
/// value after each access.
fn check(ops: &[Op], seed: u64, stall: f64) {
    let mut sim = new_sim();
    let mut host = AxiLiteHost::new(port, seed, stall);
    let mut model = RegisterFileModel::new(TABLE);
    model.set_status(TABLE[STATUS].offset, STATUS_VALUE);
    for op in ops {
        match *op {
            Op::Write { addr, data, strb } => {
                let want = model.write_strobed(addr as u32, data, strb);
                let got = host.write(&mut sim, addr, data, strb).unwrap();
                assert_eq!(got, want, "write {addr:#x} <- {data:#x} strb {strb:#x}");
            }
            Op::Read { addr } => {
                let want = model.read_raw(addr as u32);
                let got = host.read(&mut sim, addr).unwrap();
                assert_eq!(got, want, "read {addr:#x} (data, resp)");
            }
        }
        for (i, r) in TABLE.iter().enumerate() {
            if let Some(want) = model.value(r) {
                let v = sim.uut().value[i].val().index() as u32;
                assert_eq!(v, want, "value[{i}] ({})", r.name);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn register_file_matches_model(
        ops in prop::collection::vec(op_strategy(), 1..120),
        seed in any::<u64>(),
        stall in prop_oneof![Just(0.0), 0.0f64..0.7],
    ) {
        check(&ops, seed, stall);
    }
}

#[test]
fn pf_bar_reads_its_reset_values() {
    type Pf = RegisterFile<{ pf::TABLE.len() }>;
    let mut sim = DirectSim::new(Pf::new(pf::TABLE), |u| &mut u.clock).unwrap();
    let mut host = AxiLiteHost::new(|u: &mut Pf| &mut u.axil, 1, 0.0);
    for r in pf::TABLE {
        let (v, code) = host.read(&mut sim, r.offset as u16).unwrap();
        if !r.access.readable() {
            // Doorbells refuse reads.
            assert_eq!(code, resp::SLVERR, "{}", r.name);
            continue;
        }
        assert_eq!(code, resp::OKAY, "{}", r.name);
        assert_eq!(v, r.reset, "{} reset value", r.name);
    }
    let id = host.read(&mut sim, pf::ID.offset as u16).unwrap().0;
    assert_eq!(id.to_be_bytes(), *b"ONIC");
}

#[test]
fn refused_accesses_are_answered_counted_and_harmless() {
    let mut sim = new_sim();
    let mut host = AxiLiteHost::new(port, 7, 0.0);
    assert_eq!(
        host.write(&mut sim, 0x00, 1, 0xf).unwrap(),
        resp::SLVERR,
        "constant"
    );
    assert_eq!(
        host.write(&mut sim, 0x0c, 1, 0xf).unwrap(),
        resp::SLVERR,
        "status"
    );
    assert_eq!(
        host.write(&mut sim, 0x06, 1, 0xf).unwrap(),
        resp::SLVERR,
        "unaligned"
    );
    assert_eq!(
        host.write(&mut sim, 0x2000, 1, 0xf).unwrap(),
        resp::DECERR,
        "unmapped"
    );
    assert_eq!(
        host.read(&mut sim, 0x10).unwrap().1,
        resp::SLVERR,
        "doorbell read"
    );
    assert_eq!(host.read(&mut sim, 0x40).unwrap(), (5, resp::OKAY));
    assert_eq!(host.read(&mut sim, 0x44).unwrap(), (0x10, resp::OKAY));
    assert_eq!(
        host.read(&mut sim, 0x04).unwrap(),
        (0x1234_5678, resp::OKAY),
        "untouched"
    );
    assert_eq!(
        host.read(&mut sim, 0x0c).unwrap(),
        (STATUS_VALUE, resp::OKAY)
    );
}

/// Drives one write by hand and samples every cycle: the doorbell pulses
/// exactly once, with its data already on `value`, and nothing else pulses.
#[test]
fn doorbell_write_pulses_once_with_its_data() {
    let mut sim = new_sim();
    let u = sim.uut();
    u.axil.awaddr.next = (TABLE[DOORBELL].offset as u64).to_bits();
    u.axil.wdata.next = 0x0bad_cafe_u64.to_bits();
    u.axil.wstrb.next = 0xf_u64.to_bits();
    u.axil.awvalid.next = true;
    u.axil.wvalid.next = true;
    u.axil.bready.next = true;
    let mut pulses = 0;
    let mut read_pulses = 0;
    for cycle in 0..6 {
        sim.settle().unwrap();
        let u = sim.uut();
        if cycle == 0 {
            assert!(u.axil.awready.val() && u.axil.wready.val());
        }
        if u.write_pulse[DOORBELL].val() {
            pulses += 1;
            assert_eq!(u.value[DOORBELL].val().index() as u32, 0x0bad_cafe);
        }
        for i in (0..N).filter(|&i| i != DOORBELL) {
            assert!(!u.write_pulse[i].val(), "write pulse on register {i}");
        }
        read_pulses += (0..N).filter(|&i| u.read_pulse[i].val()).count();
        sim.tick().unwrap();
        if cycle == 0 {
            sim.uut().axil.awvalid.next = false;
            sim.uut().axil.wvalid.next = false;
        }
    }
    assert_eq!(pulses, 1);
    assert_eq!(read_pulses, 0);
}

/// The driver's view, identical on the behavioural model and on the HDL.
fn driver_session(bus: impl RegisterBus) {
    let mut regs = Registers::new(bus);
    assert_eq!(regs.read(&pf::ID), Ok(pf::ID_VALUE));
    assert_eq!(regs.read(&pf::VERSION), Ok(pf::VERSION_VALUE));
    regs.write(&pf::VTEP_IP, 0xc0a8_380c).unwrap();
    regs.write(&pf::VTEP_MAC_HI, 0x0800).unwrap();
    regs.write(&pf::VTEP_MAC_LO, 0x27ae_4d62).unwrap();
    regs.modify(&pf::OUTER_IP, 0xff, 32).unwrap();
    assert_eq!(regs.read(&pf::VTEP_IP), Ok(0xc0a8_380c));
    assert_eq!(regs.read(&pf::OUTER_IP), Ok(0x120));
    assert_eq!(regs.read(&pf::VXLAN_UDP_PORT), Ok(4789));
    // Refused by the accessors: nothing reaches the bus.
    assert_eq!(
        regs.write(&pf::ID, 0),
        Err(RegisterError::NotWritable("ID"))
    );
    // Refused by the slave itself.
    assert_eq!(
        regs.bus().write32(pf::ID.offset, 0),
        Err(BusError::Slave { offset: 0 })
    );
    assert_eq!(
        regs.bus().read32(0x0800),
        Err(BusError::Decode { offset: 0x0800 })
    );
    assert_eq!(regs.read(&pf::BUS_ERRORS), Ok(2));
    assert_eq!(regs.read(&pf::BUS_ERROR_ADDR), Ok(0x0800));
}

#[test]
fn driver_session_on_the_model() {
    driver_session(RegisterFileModel::new(pf::TABLE));
}

#[test]
fn driver_session_on_the_hdl() {
    type Pf = RegisterFile<{ pf::TABLE.len() }>;
    let sim = DirectSim::new(Pf::new(pf::TABLE), |u| &mut u.clock).unwrap();
    let host = AxiLiteHost::new(|u: &mut Pf| &mut u.axil, 11, 0.3);
    driver_session(HdlRegisterBus::new(sim, host));
}
