//! The default-build HDL NIC as a free-running device: its host and wire
//! ports are streamed continuously across calls, and register accesses
//! (the PF's and every VF's BAR) are carried out cycle by cycle *while*
//! the streams keep moving, as on a real PCIe card whose driver polls
//! registers under traffic.
//!
//! [`crate::device::HdlDevice`] runs each call until the NIC is idle; this
//! device instead lets a caller push frames at any time, advance the clock
//! by as many cycles as it likes ([`StreamingNic::step`]), and collect
//! whatever came out meanwhile: what a multi-host world needs to run
//! several NICs in lockstep (`crate::world`). It also implements
//! [`NicDevice`], so the driver suite runs on it unchanged.

use crate::direct::{DirectSim, SimError};
use crate::frames::{Frame, Received, StreamDriver, StreamMonitor};
use crate::rx::model_meta;
use crate::tx::{default_nic, offload_request, DefaultNic};
use overlay_nic_driver::device::{DeviceError, HostFrame, NicDevice};
use overlay_nic_driver::registers::BusError;
use overlay_nic_driver::rx::RxDelivery;
use overlay_nic_driver::tx::Function;
use overlay_nic_hdl::rx_types::RxMeta;
use overlay_nic_hdl::tx_types::TxHostMeta;
use overlay_nic_hdl::AxiLiteSlave;
use overlay_nic_regmap::{vf, Build};
use rust_hdl::prelude::*;
use std::path::Path;

/// Cycles without a beat on any port after which an otherwise empty NIC
/// is idle: twice its longest latency (9 cycles TX, 15 RX).
pub const QUIET_CYCLES: u64 = 32;

/// Cycles a register access may wait for the slave.
const AXI_TIMEOUT: u64 = 1000;

/// A frame the NIC put on the wire, with the cycle of its last beat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireOut {
    pub data: Vec<u8>,
    pub last_cycle: u64,
}

/// What came out during a [`StreamingNic::step`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepOutput {
    /// Wire frames, in wire order.
    pub wire: Vec<WireOut>,
    /// Copies delivered to the host functions, in delivery order.
    pub delivered: Vec<RxDelivery>,
}

/// One AXI4-Lite transaction in progress, advanced a cycle at a time.
#[derive(Clone, Copy, Debug)]
enum AxiOp {
    Read {
        addr: u16,
        asked: bool,
    },
    Write {
        addr: u16,
        data: u32,
        aw: bool,
        w: bool,
    },
}

impl AxiOp {
    /// Sets the master's side of the port for this cycle.
    fn drive(&self, p: &mut AxiLiteSlave) {
        p.awvalid.next = false;
        p.wvalid.next = false;
        p.bready.next = false;
        p.arvalid.next = false;
        p.rready.next = false;
        match *self {
            AxiOp::Read { addr, asked } => {
                p.araddr.next = u64::from(addr).to_bits();
                p.arvalid.next = !asked;
                p.rready.next = asked;
            }
            AxiOp::Write { addr, data, aw, w } => {
                p.awaddr.next = u64::from(addr).to_bits();
                p.awvalid.next = !aw;
                p.wdata.next = u64::from(data).to_bits();
                p.wstrb.next = 0xfu64.to_bits();
                p.wvalid.next = !w;
                p.bready.next = aw && w;
            }
        }
    }

    /// After the design settled: takes this cycle's handshakes; the
    /// response `(data, code)` once the transaction is over.
    fn observe(&mut self, p: &AxiLiteSlave) -> Option<(u32, u8)> {
        match self {
            AxiOp::Read { asked, .. } => {
                if *asked && p.rvalid.val() {
                    return Some((p.rdata.val().index() as u32, p.rresp.val().index() as u8));
                }
                *asked |= p.arready.val();
                None
            }
            AxiOp::Write { aw, w, .. } => {
                if *aw && *w && p.bvalid.val() {
                    return Some((0, p.bresp.val().index() as u8));
                }
                *aw |= p.awready.val();
                *w |= p.wready.val();
                None
            }
        }
    }
}

fn idle_axi(p: &mut AxiLiteSlave) {
    p.awvalid.next = false;
    p.wvalid.next = false;
    p.bready.next = false;
    p.arvalid.next = false;
    p.rready.next = false;
}

/// Which register port a transaction is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    Pf,
    Vf,
}

/// The HDL NIC with its ports streamed continuously.
pub struct StreamingNic {
    sim: DirectSim<DefaultNic>,
    build: Build,
    host_in: Vec<StreamDriver<TxHostMeta>>,
    wire_in: StreamDriver<Bit>,
    wire_out: StreamMonitor<Bit>,
    host_out: Vec<StreamMonitor<RxMeta>>,
    /// Beats moved on any port so far, and the cycle of the last one.
    moved: u64,
    last_move: u64,
}

impl StreamingNic {
    /// A NIC fresh from reset, every port idle.
    pub fn new() -> Result<StreamingNic, SimError> {
        let build = Build::DEFAULT;
        let nf = build.functions();
        Ok(StreamingNic {
            sim: DirectSim::new(default_nic(), |u| &mut u.clock)?,
            build,
            host_in: (0..nf).map(|f| StreamDriver::new(f as u64, 0.0)).collect(),
            wire_in: StreamDriver::new(0, 0.0),
            wire_out: StreamMonitor::new(0, 0.0),
            host_out: (0..nf).map(|f| StreamMonitor::new(f as u64, 0.0)).collect(),
            moved: 0,
            last_move: 0,
        })
    }

    /// Streams the NIC's waveform to `path` from now on.
    pub fn trace_to(&mut self, path: &Path) -> Result<(), SimError> {
        self.sim.trace_to(path)
    }

    /// Clock cycles simulated so far.
    pub fn cycle(&self) -> u64 {
        self.sim.cycle()
    }

    /// Queues frames on the host functions' TX ports (each function's in
    /// order).
    pub fn push_host(&mut self, frames: &[HostFrame]) -> Result<(), DeviceError> {
        for h in frames {
            let f = h.function.index();
            if f >= self.host_in.len() {
                return Err(DeviceError::NoSuchFunction {
                    function: h.function,
                    vfs: self.build.vfs,
                });
            }
            let meta = TxHostMeta {
                encap: h.tag.is_some(),
                vni: u64::from(h.tag.map_or(0, |v| v.get())).to_bits(),
                offload: offload_request(&h.offload),
            };
            self.host_in[f]
                .push(Frame::new(h.data.clone(), meta))
                .map_err(|_| DeviceError::EmptyFrame)?;
        }
        Ok(())
    }

    /// Queues frames on the wire's receive side.
    pub fn push_wire(&mut self, frames: &[Vec<u8>]) -> Result<(), DeviceError> {
        for f in frames {
            self.wire_in
                .push(Frame::new(f.clone(), false))
                .map_err(|_| DeviceError::EmptyFrame)?;
        }
        Ok(())
    }

    /// Nothing queued, nothing half through a port, and no beat for
    /// [`QUIET_CYCLES`]: the NIC has nothing more to say until fed.
    pub fn idle(&self) -> bool {
        self.host_in.iter().all(StreamDriver::done)
            && self.wire_in.done()
            && !self.wire_out.mid_frame()
            && self.host_out.iter().all(|m| !m.mid_frame())
            && (self.moved == 0 || self.sim.cycle() - self.last_move >= QUIET_CYCLES)
    }

    /// One clock cycle of every stream, and of `axi` on its port if given.
    fn cycle_once(
        &mut self,
        mut axi: Option<(Port, &mut AxiOp)>,
    ) -> Result<Option<(u32, u8)>, DeviceError> {
        let sim_err = |e: SimError| DeviceError::Simulation(e.to_string());
        let cycle = self.sim.cycle();
        let uut = self.sim.uut();
        for (f, d) in self.host_in.iter_mut().enumerate() {
            d.drive(&mut uut.s_host[f]);
        }
        self.wire_in.drive(&mut uut.s_wire);
        self.wire_out.drive(&mut uut.m_wire);
        for (f, m) in self.host_out.iter_mut().enumerate() {
            m.drive(&mut uut.m_host[f]);
        }
        idle_axi(&mut uut.axil);
        idle_axi(&mut uut.vf_axil);
        match &axi {
            Some((Port::Pf, op)) => op.drive(&mut uut.axil),
            Some((Port::Vf, op)) => op.drive(&mut uut.vf_axil),
            None => {}
        }
        self.sim.settle().map_err(sim_err)?;
        let uut = self.sim.uut();
        for (f, d) in self.host_in.iter_mut().enumerate() {
            d.observe(&uut.s_host[f]);
        }
        self.wire_in.observe(&uut.s_wire);
        self.wire_out.observe(&uut.m_wire, cycle);
        for (f, m) in self.host_out.iter_mut().enumerate() {
            m.observe(&uut.m_host[f], cycle);
        }
        let response = match &mut axi {
            Some((Port::Pf, op)) => op.observe(&uut.axil),
            Some((Port::Vf, op)) => op.observe(&uut.vf_axil),
            None => None,
        };
        self.sim.tick_settled().map_err(sim_err)?;
        let violation = self
            .wire_out
            .violation()
            .or_else(|| self.host_out.iter().find_map(|m| m.violation()));
        if let Some(v) = violation {
            return Err(DeviceError::Simulation(v.to_string()));
        }
        let moved = self.host_in.iter().map(|d| d.beats_sent()).sum::<u64>()
            + self.wire_in.beats_sent()
            + self.wire_out.beats()
            + self.host_out.iter().map(|m| m.beats()).sum::<u64>();
        if moved != self.moved {
            (self.moved, self.last_move) = (moved, self.sim.cycle());
        }
        Ok(response)
    }

    /// Advances the clock `cycles` cycles, streaming every port.
    pub fn step(&mut self, cycles: u64) -> Result<(), DeviceError> {
        for _ in 0..cycles {
            self.cycle_once(None)?;
        }
        Ok(())
    }

    /// Takes what came out since the last call.
    pub fn take_output(&mut self) -> StepOutput {
        let wire = self
            .wire_out
            .take_frames()
            .into_iter()
            .map(|r| WireOut {
                data: r.data,
                last_cycle: r.last_cycle,
            })
            .collect();
        let mut copies: Vec<(u64, usize, Received<RxMeta>)> = Vec::new();
        for (f, m) in self.host_out.iter_mut().enumerate() {
            copies.extend(m.take_frames().into_iter().map(|r| (r.first_cycle, f, r)));
        }
        copies.sort_by_key(|(c, f, _)| (*c, *f));
        let delivered = copies
            .into_iter()
            .map(|(_, f, r)| RxDelivery {
                function: Function::from_index(f),
                meta: model_meta(&r.meta),
                frame: r.data,
            })
            .collect();
        StepOutput { wire, delivered }
    }

    /// Runs until idle and takes the output.
    pub fn run_until_idle(&mut self) -> Result<StepOutput, DeviceError> {
        let start = self.sim.cycle();
        while !self.idle() {
            self.cycle_once(None)?;
            if self.sim.cycle() - start > 10_000_000 {
                return Err(DeviceError::Simulation(
                    "the NIC did not go idle within 10,000,000 cycles".into(),
                ));
            }
        }
        Ok(self.take_output())
    }

    fn access(&mut self, port: Port, mut op: AxiOp, offset: u32) -> Result<(u32, u8), BusError> {
        let start = self.sim.cycle();
        loop {
            let got = self
                .cycle_once(Some((port, &mut op)))
                .map_err(|e| BusError::Transport(e.to_string()))?;
            if let Some(r) = got {
                return Ok(r);
            }
            if self.sim.cycle() - start > AXI_TIMEOUT {
                return Err(BusError::Transport(format!(
                    "register slave did not answer at {offset:#x} within {AXI_TIMEOUT} cycles"
                )));
            }
        }
    }

    fn address(&self, function: Function, offset: u32) -> Result<(Port, u16), BusError> {
        match function {
            Function::Pf => u16::try_from(offset)
                .map(|a| (Port::Pf, a))
                .map_err(|_| BusError::OutOfRange { offset }),
            // The endpoint routes only what hit an existing VF's BAR.
            Function::Vf(i) if i < self.build.vfs && offset < vf::BAR_SIZE => {
                Ok((Port::Vf, (i as u32 * vf::BAR_SIZE + offset) as u16))
            }
            Function::Vf(_) => Err(BusError::OutOfRange { offset }),
        }
    }

    fn busy_error() -> DeviceError {
        DeviceError::Simulation("frames are streaming: a whole-batch call needs an idle NIC".into())
    }
}

impl NicDevice for StreamingNic {
    fn build(&self) -> Build {
        self.build
    }

    fn bar_read(&mut self, function: Function, offset: u32) -> Result<u32, BusError> {
        let (port, addr) = self.address(function, offset)?;
        let (data, code) = self.access(port, AxiOp::Read { addr, asked: false }, offset)?;
        BusError::check(code, offset).map(|()| data)
    }

    fn bar_write(&mut self, function: Function, offset: u32, value: u32) -> Result<(), BusError> {
        let (port, addr) = self.address(function, offset)?;
        let op = AxiOp::Write {
            addr,
            data: value,
            aw: false,
            w: false,
        };
        let (_, code) = self.access(port, op, offset)?;
        BusError::check(code, offset)
    }

    /// For an idle NIC: the batch in, everything out once idle again.
    fn transmit(&mut self, frames: &[HostFrame]) -> Result<Vec<Vec<u8>>, DeviceError> {
        if !self.idle() {
            return Err(Self::busy_error());
        }
        if frames.iter().any(|f| f.data.is_empty()) {
            return Err(DeviceError::EmptyFrame);
        }
        self.push_host(frames)?;
        let out = self.run_until_idle()?;
        Ok(out.wire.into_iter().map(|w| w.data).collect())
    }

    /// For an idle NIC: the batch in, every delivery once idle again.
    fn receive(&mut self, frames: &[Vec<u8>]) -> Result<Vec<RxDelivery>, DeviceError> {
        if !self.idle() {
            return Err(Self::busy_error());
        }
        if frames.iter().any(|f| f.is_empty()) {
            return Err(DeviceError::EmptyFrame);
        }
        self.push_wire(frames)?;
        Ok(self.run_until_idle()?.delivered)
    }
}
