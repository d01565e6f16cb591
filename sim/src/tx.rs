//! The TX path under simulation, driven the way the host drives it.
//!
//! [`NicSim`] owns a cycle-accurate [`Nic`] (default build): it programs
//! the NIC from a [`NicConfig`] through the register slave only (AXI4-Lite
//! transactions with random stalls), streams host frames into the
//! functions' ports with seeded idle cycles, collects the wire with seeded
//! back-pressure, and reads counters and events back through registers.
//!
//! ```no_run
//! use overlay_nic_driver::nic_config::NicConfig;
//! use overlay_nic_driver::tx::Function;
//! use overlay_nic_sim::tx::{HostFrame, Traffic, NicSim};
//!
//! let config = NicConfig::from_toml(include_str!("../../examples/nic.toml")).unwrap();
//! let mut nic = NicSim::new(1).unwrap();
//! nic.program(&config).unwrap();
//! let frame = HostFrame {
//!     function: Function::Vf(0),
//!     data: vec![0; 60],
//!     tag: None,
//!     offload: Default::default(),
//! };
//! let run = nic.run(&[frame], Traffic::default(), 1).unwrap();
//! println!("{} frame(s) on the wire", run.wire.len());
//! ```

use crate::axil::{AxiLiteHost, HdlRegisterBus};
use crate::direct::{DirectSim, SimError};
use crate::frames::{Frame, StreamDriver, StreamError, StreamMonitor};
use overlay_nic_driver::nic_config::{MacAddr, MissPolicy, NicConfig};
use overlay_nic_driver::offload::OffloadRequest;
use overlay_nic_driver::registers::{RegisterBus, RegisterError, Registers};
use overlay_nic_driver::tx::{Function, FunctionCounters, NicEvent};
use overlay_nic_driver::vxlan::Vni;
use overlay_nic_hdl::nic::{nic_register_count, Nic};
use overlay_nic_hdl::tx_types::{TxHostMeta, TxOffloadRequest};
use overlay_nic_regmap::pf::{self, cmd, function as fr, result};
use overlay_nic_regmap::{Build, Register};
use rust_hdl::prelude::*;
use std::path::Path;

/// The default build's TX path: PF + 4 VFs, 64 table entries, 16 VNI
/// records, a 4096-beat (32 KiB) TX buffer.
pub type DefaultNic = Nic<5, { nic_register_count(4) }, 80, 64, 6, 16, 4, 12, 13, 10, 11>;

/// A new default-build NIC.
pub fn default_nic() -> DefaultNic {
    Nic::new(&Build::DEFAULT)
}

/// A frame a host function hands the NIC (the driver model's type, so
/// both device back ends take the same frames).
pub use overlay_nic_driver::device::HostFrame;

/// The hardware's form of a host frame's offload request.
pub fn offload_request(r: &OffloadRequest) -> TxOffloadRequest {
    TxOffloadRequest {
        csum: r.csum,
        csum_start: u64::from(r.csum_start).to_bits(),
        csum_offset: u64::from(r.csum_offset).to_bits(),
        ip_csum: r.ip_csum,
        tso: r.tso,
        mss: u64::from(r.mss).to_bits(),
    }
}

/// Stream stalls for a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traffic {
    pub seed: u64,
    /// Probability that a host port offers nothing in a cycle.
    pub idle: f64,
    /// Probability that the wire refuses a beat in a cycle.
    pub backpressure: f64,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            seed: 1,
            idle: 0.0,
            backpressure: 0.0,
        }
    }
}

/// One frame as it left on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct WireFrame {
    pub data: Vec<u8>,
    /// Cycles of its first and last beat.
    pub first_cycle: u64,
    pub last_cycle: u64,
}

/// What a run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxRun {
    pub wire: Vec<WireFrame>,
    /// Cycle each host frame's last beat was taken, in the order given.
    pub last_in_cycle: Vec<u64>,
    pub cycles: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum NicSimError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Register(#[from] RegisterError),
    #[error("function {0:?} is not in this build (PF and {1} VFs)")]
    NoSuchFunction(Function, usize),
    #[error("the {table} command {code} for {what} answered result {result}")]
    Command {
        table: &'static str,
        code: u32,
        what: String,
        result: u32,
    },
    #[error("the {0} table stayed busy")]
    Busy(&'static str),
    #[error("an empty frame cannot be sent")]
    EmptyFrame,
    #[error("golden model: {0}")]
    Model(String),
}

use overlay_nic_driver::pf_driver::{self as ops, mac_of, DriverError};

/// A driver register sequence's failure in the harness's terms.
fn driver_error(e: DriverError, what: impl Fn() -> String) -> NicSimError {
    match e {
        DriverError::Command {
            table,
            code,
            result,
        } => NicSimError::Command {
            table,
            code,
            what: what(),
            result,
        },
        DriverError::Busy(table) => NicSimError::Busy(table),
        DriverError::Register(e) => NicSimError::Register(e),
        other => NicSimError::Model(other.to_string()),
    }
}

/// Cycles without a beat on any port after which a run that does not know
/// what to expect calls the NIC idle: far longer than any latency through
/// it (9 cycles TX, 15 RX) while frames flow without stalls.
pub const QUIET_CYCLES: u64 = 256;

/// The default-build TX path and a register session on it.
pub struct NicSim {
    regs: Registers<HdlRegisterBus<DefaultNic>>,
    build: Build,
}

impl NicSim {
    /// A NIC fresh from reset; `seed` drives the register bus's stalls.
    pub fn new(seed: u64) -> Result<Self, NicSimError> {
        let sim = DirectSim::new(default_nic(), |u| &mut u.clock)?;
        let host = AxiLiteHost::new(|u: &mut DefaultNic| &mut u.axil, seed, 0.2);
        Ok(NicSim {
            regs: Registers::new(HdlRegisterBus::new(sim, host)),
            build: Build::DEFAULT,
        })
    }

    /// The build simulated.
    pub fn build(&self) -> &Build {
        &self.build
    }

    /// Streams the waveform to `path` from now on.
    pub fn trace_to(&mut self, path: &Path) -> Result<(), NicSimError> {
        Ok(self.regs.bus().sim().trace_to(path)?)
    }

    /// The simulation, for tests that look inside.
    pub fn sim(&mut self) -> &mut DirectSim<DefaultNic> {
        self.regs.bus().sim()
    }

    /// The register session.
    pub fn registers(&mut self) -> &mut Registers<HdlRegisterBus<DefaultNic>> {
        &mut self.regs
    }

    fn function_index(&self, f: Function) -> Result<usize, NicSimError> {
        let i = match f {
            Function::Pf => 0,
            Function::Vf(i) => i + 1,
        };
        if i > self.build.vfs {
            return Err(NicSimError::NoSuchFunction(f, self.build.vfs));
        }
        Ok(i)
    }

    /// Programs the whole configuration: local VTEP, functions, per-VNI
    /// records and mapping-table entries.
    pub fn program(&mut self, config: &NicConfig) -> Result<(), NicSimError> {
        program_registers(&mut self.regs, &self.build, config)
    }

    /// Adds or replaces the mapping-table entry for (`vni`, `mac`).
    pub fn add_entry(
        &mut self,
        vni: Vni,
        mac: &MacAddr,
        vtep_ip: u32,
        vtep_mac: &MacAddr,
    ) -> Result<(), NicSimError> {
        add_entry_on(&mut self.regs, vni, mac, vtep_ip, vtep_mac)
    }

    /// Deletes the mapping-table entry for (`vni`, `mac`).
    pub fn delete_entry(&mut self, vni: Vni, mac: &MacAddr) -> Result<(), NicSimError> {
        self.stage_key(vni, mac)?;
        self.command(
            "mapping",
            &pf::MAP_CMD,
            &pf::MAP_STATUS,
            cmd::DELETE,
            || format!("VNI {} MAC {mac}", vni.get()),
        )
    }

    /// Reads the entry for (`vni`, `mac`) back: `(slot, VTEP IP, VTEP MAC)`.
    pub fn find_entry(
        &mut self,
        vni: Vni,
        mac: &MacAddr,
    ) -> Result<Option<(u16, u32, MacAddr)>, NicSimError> {
        self.stage_key(vni, mac)?;
        match self.command(
            "mapping",
            &pf::MAP_CMD,
            &pf::MAP_STATUS,
            cmd::FIND,
            String::new,
        ) {
            Ok(()) => {}
            Err(NicSimError::Command {
                result: result::NOT_FOUND,
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let slot = self.regs.read(&pf::MAP_RD_INDEX)? as u16;
        let ip = self.regs.read(&pf::MAP_RD_VTEP_IP)?;
        let hi = self.regs.read(&pf::MAP_RD_VTEP_MAC_HI)?;
        let lo = self.regs.read(&pf::MAP_RD_VTEP_MAC_LO)?;
        Ok(Some((slot, ip, mac_of(hi, lo))))
    }

    /// Entries in use in the mapping table.
    pub fn entries_in_use(&mut self) -> Result<u32, NicSimError> {
        Ok(self.regs.read(&pf::MAP_STATUS)? >> 16)
    }

    fn stage_key(&mut self, vni: Vni, mac: &MacAddr) -> Result<(), NicSimError> {
        stage_key_on(&mut self.regs, vni, mac)
    }

    fn command(
        &mut self,
        table: &'static str,
        doorbell: &Register,
        status: &Register,
        code: u32,
        what: impl Fn() -> String,
    ) -> Result<(), NicSimError> {
        command_on(&mut self.regs, table, doorbell, status, code, what)
    }

    /// Streams `frames` in (each function's frames in the order given,
    /// functions in parallel) and runs until `expect` frames have left on
    /// the wire and the host ports are idle, plus a drain window in which
    /// any further output is an error.
    pub fn run(
        &mut self,
        frames: &[HostFrame],
        traffic: Traffic,
        expect: usize,
    ) -> Result<TxRun, NicSimError> {
        self.run_to(frames, traffic, Some(expect))
    }

    /// Streams `frames` in as [`NicSim::run`] does, without knowing what
    /// will come out: runs until every frame is in and neither port has
    /// moved a beat for [`QUIET_CYCLES`] with no frame half out.
    pub fn run_until_idle(
        &mut self,
        frames: &[HostFrame],
        traffic: Traffic,
    ) -> Result<TxRun, NicSimError> {
        self.run_to(frames, traffic, None)
    }

    fn run_to(
        &mut self,
        frames: &[HostFrame],
        traffic: Traffic,
        expect: Option<usize>,
    ) -> Result<TxRun, NicSimError> {
        const DRAIN_CYCLES: u64 = 64;
        let nf = self.build.functions();
        let mut drivers: Vec<StreamDriver<TxHostMeta>> = (0..nf)
            .map(|f| StreamDriver::new(traffic.seed.wrapping_add(f as u64 * 7919), traffic.idle))
            .collect();
        // Which input frame each driver's n-th frame is.
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); nf];
        for (i, h) in frames.iter().enumerate() {
            if h.data.is_empty() {
                return Err(NicSimError::EmptyFrame);
            }
            let f = self.function_index(h.function)?;
            let meta = TxHostMeta {
                encap: h.tag.is_some(),
                vni: (h.tag.map_or(0, |v| v.get()) as u64).to_bits(),
                offload: offload_request(&h.offload),
            };
            drivers[f].push(Frame::new(h.data.clone(), meta))?;
            order[f].push(i);
        }
        let mut monitor: StreamMonitor<Bit> =
            StreamMonitor::new(traffic.seed ^ 0x5eed, traffic.backpressure);
        let mut last_in_cycle = vec![0u64; frames.len()];
        let sim = self.regs.bus().sim();
        let start = sim.cycle();
        // Generous: every beat stalled as often as the traffic allows.
        let beats: u64 = frames.iter().map(|h| h.data.len() as u64 / 8 + 16).sum();
        let slowdown = 1.0 / ((1.0 - traffic.backpressure) * (1.0 - traffic.idle)).max(0.01);
        let max_cycles = 10_000 + (4.0 * beats as f64 * slowdown) as u64;
        let mut drain: Option<u64> = None;
        let (mut last_moved, mut last_move_cycle) = (0u64, start);
        loop {
            let cycle = sim.cycle();
            for (f, d) in drivers.iter_mut().enumerate() {
                d.drive(&mut sim.uut().s_host[f]);
            }
            monitor.drive(&mut sim.uut().m_wire);
            sim.settle()?;
            for (f, d) in drivers.iter_mut().enumerate() {
                let before = d.frames_sent();
                d.observe(&sim.uut().s_host[f]);
                if d.frames_sent() > before {
                    last_in_cycle[order[f][before as usize]] = cycle;
                }
            }
            monitor.observe(&sim.uut().m_wire, cycle);
            sim.tick()?;
            if let Some(v) = monitor.violation() {
                return Err(StreamError::Protocol {
                    cycle,
                    what: v.to_string(),
                }
                .into());
            }
            let all_in = drivers.iter().all(|d| d.done());
            let moved = monitor.beats() + drivers.iter().map(|d| d.beats_sent()).sum::<u64>();
            if moved != last_moved {
                (last_moved, last_move_cycle) = (moved, sim.cycle());
            }
            match expect {
                Some(n) => {
                    if drain.is_none() && all_in && monitor.frames().len() >= n {
                        drain = Some(sim.cycle() + DRAIN_CYCLES);
                    }
                    if drain.is_some_and(|end| sim.cycle() >= end) {
                        break;
                    }
                }
                // Only once quiet: the whole-frame count walks every frame.
                None if all_in && sim.cycle() - last_move_cycle >= QUIET_CYCLES => {
                    let whole: u64 = monitor
                        .frames()
                        .iter()
                        .map(|f| f.data.len().div_ceil(8) as u64)
                        .sum();
                    if monitor.beats() == whole {
                        break;
                    }
                }
                None => {}
            }
            if sim.cycle() - start > max_cycles {
                return Err(StreamError::Timeout {
                    cycles: max_cycles,
                    received: monitor.frames().len(),
                    expected: expect.unwrap_or(0),
                }
                .into());
            }
        }
        // Leave the wire ready and the ports idle for register traffic.
        monitor.set_ready(&mut sim.uut().m_wire, true);
        let whole: u64 = monitor
            .frames()
            .iter()
            .map(|f| f.data.len().div_ceil(8) as u64)
            .sum();
        let expected = expect.unwrap_or(monitor.frames().len());
        if monitor.frames().len() > expected || monitor.beats() > whole {
            return Err(StreamError::ExtraOutput {
                expected,
                extra_beats: monitor.beats() - whole.min(monitor.beats()),
            }
            .into());
        }
        Ok(TxRun {
            wire: monitor
                .frames()
                .iter()
                .map(|r| WireFrame {
                    data: r.data.clone(),
                    first_cycle: r.first_cycle,
                    last_cycle: r.last_cycle,
                })
                .collect(),
            last_in_cycle,
            cycles: sim.cycle() - start,
        })
    }

    /// A function's counters, read through the register slave.
    pub fn counters(&mut self, function: Function) -> Result<FunctionCounters, NicSimError> {
        let f = self.function_index(function)?;
        let mut read = |r: &Register| self.regs.read(&pf::function_register(f, r));
        Ok(FunctionCounters {
            frames: read(&fr::TX_FRAMES)?,
            bytes: read(&fr::TX_BYTES)?,
            encapsulated: read(&fr::TX_ENCAPSULATED)?,
            drop_runt: read(&fr::TX_DROP_RUNT)?,
            drop_spoofed: read(&fr::TX_DROP_SPOOFED)?,
            drop_mtu: read(&fr::TX_DROP_MTU)?,
            drop_no_vni: read(&fr::TX_DROP_NO_VNI)?,
            drop_miss: read(&fr::TX_DROP_MISS)?,
            misses: read(&fr::TX_MISSES)?,
            drop_offload_csum: read(&fr::TX_DROP_OFFLOAD_CSUM)?,
            drop_offload_ip: read(&fr::TX_DROP_OFFLOAD_IP)?,
            drop_offload_tso: read(&fr::TX_DROP_OFFLOAD_TSO)?,
            tso_segments: read(&fr::TX_TSO_SEGMENTS)?,
        })
    }

    /// Reads and pops every queued event.
    pub fn drain_events(&mut self) -> Result<Vec<NicEvent>, NicSimError> {
        Ok(ops::drain_events(&mut self.regs)?)
    }

    /// Events the queue discarded because it was full.
    pub fn events_lost(&mut self) -> Result<u32, NicSimError> {
        Ok(self.regs.read(&pf::EVENT_LOST)?)
    }
}

/// The configuration the TX benchmarks run with: the PF sends frames
/// tagged with VNI 5001 to an inner MAC in the table, on the local subnet;
/// the PF's MTU allows the build's largest frame.
pub fn bench_config(vlan: bool) -> NicConfig {
    use overlay_nic_driver::nic_config::{MapEntry, VlanTag, VniRecord, VtepConfig};
    use std::net::Ipv4Addr;
    let mut vtep = VtepConfig::new(
        MacAddr([2, 0, 10, 0, 0, 1]),
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(255, 255, 255, 0),
        MacAddr([2, 0, 10, 0, 0, 0xfe]),
    );
    if vlan {
        vtep.vlan = Some(VlanTag { vid: 100, pcp: 0 });
    }
    let mut config = NicConfig::new(vtep);
    config.pf.mtu = (Build::DEFAULT.max_frame - 18) as u32;
    let vni = Vni::new(5001).expect("VNI");
    config.vnis.push(VniRecord {
        vni,
        multicast_group: Ipv4Addr::new(239, 1, 1, 1),
        gateway_ip: Ipv4Addr::new(10, 0, 0, 254),
        gateway_mac: MacAddr([2, 0, 10, 0, 0, 0xfe]),
        miss_policy: MissPolicy::Flood,
    });
    config.entries.push(MapEntry {
        vni,
        mac: BENCH_DST,
        vtep_ip: Ipv4Addr::new(10, 0, 0, 2),
        vtep_mac: MacAddr([2, 0, 10, 0, 0, 2]),
    });
    config
}

/// The inner destination MAC of benchmark frames (in the table).
pub const BENCH_DST: MacAddr = MacAddr([2, 0, 0, 0, 1, 1]);

/// A benchmark frame of `len` bytes: inner Ethernet to [`BENCH_DST`].
pub fn bench_frame(len: usize, seq: usize) -> Vec<u8> {
    let mut f = vec![(seq % 251) as u8; len];
    let head = [2, 0, 0, 0, 1, 1, 2, 0, 0, 0, 1, 0, 0x88, 0xb5];
    let n = head.len().min(len);
    f[..n].copy_from_slice(&head[..n]);
    f
}

/// A TCP/IPv4 frame with `payload` bytes from the bench's source to its
/// mapped destination (the bench configuration's table hit), sequence
/// numbers continuing frame after frame.
pub fn bench_tcp_frame(payload: usize, seq: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..payload).map(|i| (i + seq) as u8).collect();
    let mut f = Vec::with_capacity(payload + 54);
    etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 1, 0], BENCH_DST.0)
        .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .tcp(40_000, 5201, (seq * payload) as u32, 64_000)
        .write(&mut f, &data)
        .expect("a TCP frame");
    f
}

/// One row of the TX offload benchmark: TCP/IPv4 frames with an offload
/// request, back to back, encapsulated.
#[derive(Clone, Debug, PartialEq)]
pub struct TxOffloadRate {
    /// TCP payload bytes per host frame.
    pub payload: usize,
    /// The request's MSS (TSO), or `None` for `CHECKSUM_PARTIAL` + IPv4.
    pub mss: Option<u16>,
    pub frames: usize,
    /// Wire frames (segments) out.
    pub wire_frames: usize,
    /// Sum over wire frames of ceil(len / 8): the cycles a beat-per-cycle
    /// output needs.
    pub wire_beats: u64,
    /// Cycles from the first wire beat to the last.
    pub span_cycles: u64,
    /// Cycles from the first frame's last host beat to its first wire beat.
    pub latency: u64,
}

impl TxOffloadRate {
    pub fn efficiency(&self) -> f64 {
        self.wire_beats as f64 / self.span_cycles as f64
    }
}

/// One row of the TX line-rate benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct TxLineRate {
    pub frame_bytes: usize,
    /// Outer header bytes inserted (0: passthrough).
    pub header: usize,
    pub frames: usize,
    /// Cycles from the first frame's first wire beat to the last frame's last.
    pub span_cycles: u64,
    /// The same if every cycle carried a beat: sum of ceil((len + header) / 8).
    pub ideal_cycles: u64,
    /// Cycles from the first frame's last host beat to its first wire beat.
    pub latency: u64,
}

impl TxLineRate {
    pub fn efficiency(&self) -> f64 {
        self.ideal_cycles as f64 / self.span_cycles as f64
    }
}

impl NicSim {
    /// Sends `frames` TCP/IPv4 frames of `payload` bytes back to back from
    /// the PF, tagged for encapsulation, with TSO at `mss` (or, with `None`,
    /// `CHECKSUM_PARTIAL` and the IPv4 header checksum), the host always
    /// offering and the wire always ready, and measures the wire.
    pub fn offload_rate(
        &mut self,
        payload: usize,
        mss: Option<u16>,
        frames: usize,
    ) -> Result<TxOffloadRate, NicSimError> {
        let vni = Vni::new(5001).expect("VNI");
        let mut expect = 0;
        let host: Vec<HostFrame> = (0..frames)
            .map(|i| {
                let mut data = bench_tcp_frame(payload, i);
                let offload = match mss {
                    Some(m) => {
                        expect += payload.div_ceil(usize::from(m)).max(1);
                        OffloadRequest::segmentation(m)
                    }
                    None => {
                        expect += 1;
                        let mut r =
                            overlay_nic_driver::offload::prepare_checksum_partial(&mut data)
                                .expect("TCP/IPv4");
                        r.ip_csum = true;
                        r
                    }
                };
                HostFrame {
                    function: Function::Pf,
                    data,
                    tag: Some(vni),
                    offload,
                }
            })
            .collect();
        let run = self.run(&host, Traffic::default(), expect)?;
        let n = run.wire.len();
        Ok(TxOffloadRate {
            payload,
            mss,
            frames,
            wire_frames: n,
            wire_beats: run
                .wire
                .iter()
                .map(|w| w.data.len().div_ceil(8) as u64)
                .sum(),
            span_cycles: run.wire[n - 1].last_cycle - run.wire[0].first_cycle + 1,
            latency: run.wire[0].first_cycle - run.last_in_cycle[0],
        })
    }

    /// Sends `frames` back-to-back frames of `len` bytes (PF, tagged for
    /// encapsulation when `encap`) with the host always offering and the
    /// wire always ready, and measures the wire.
    pub fn line_rate(
        &mut self,
        len: usize,
        frames: usize,
        encap: bool,
    ) -> Result<TxLineRate, NicSimError> {
        let vni = Vni::new(5001).expect("VNI");
        let host: Vec<HostFrame> = (0..frames)
            .map(|i| HostFrame {
                function: Function::Pf,
                data: bench_frame(len, i),
                tag: encap.then_some(vni),
                offload: Default::default(),
            })
            .collect();
        let vlan = self.regs.read(&pf::OUTER_VLAN)? >> 16 & 1 == 1;
        let header = match (encap, vlan) {
            (false, _) => 0,
            (true, false) => 50,
            (true, true) => 54,
        };
        let run = self.run(&host, Traffic::default(), frames)?;
        let ideal_cycles = (frames * (len + header).div_ceil(8)) as u64;
        Ok(TxLineRate {
            frame_bytes: len,
            header,
            frames,
            span_cycles: run.wire[frames - 1].last_cycle - run.wire[0].first_cycle + 1,
            ideal_cycles,
            latency: run.wire[0].first_cycle - run.last_in_cycle[0],
        })
    }
}

/// Programs the whole configuration: local VTEP, functions, per-VNI
/// records and mapping-table entries, on any register bus (the HDL's, or
/// a recorder that turns it into a write sequence).
pub fn program_registers<B: RegisterBus>(
    r: &mut Registers<B>,
    build: &Build,
    config: &NicConfig,
) -> Result<(), NicSimError> {
    ops::program_vtep(r, &config.vtep)?;
    r.write(
        &pf::RX_CONFIG,
        u32::from(config.rx.strict_vxlan_flags) | u32::from(config.rx.check_source_mac) << 1,
    )?;
    if let Some(mac) = &config.pf.mac {
        write_function_on(r, 0, &fr::MAC_HI, ops::mac_hi(mac))?;
        write_function_on(r, 0, &fr::MAC_LO, ops::mac_lo(mac))?;
    }
    write_function_on(r, 0, &fr::MTU, config.pf.mtu)?;
    for (i, vf) in config.vfs.iter().enumerate() {
        if i >= build.vfs {
            return Err(NicSimError::NoSuchFunction(Function::Vf(i), build.vfs));
        }
        let f = i + 1;
        write_function_on(r, f, &fr::MAC_HI, ops::mac_hi(&vf.mac))?;
        write_function_on(r, f, &fr::MAC_LO, ops::mac_lo(&vf.mac))?;
        let vni = vf.vni.map_or(0, |v| 1 << 31 | v.get());
        write_function_on(r, f, &fr::VNI, vni)?;
        write_function_on(r, f, &fr::MTU, vf.mtu)?;
    }
    for rec in &config.vnis {
        ops::program_vni_record(r, rec)
            .map_err(|e| driver_error(e, || format!("VNI {}", rec.vni.get())))?;
    }
    for e in &config.entries {
        add_entry_on(r, e.vni, &e.mac, e.vtep_ip.into(), &e.vtep_mac)?;
    }
    Ok(())
}

fn write_function_on<B: RegisterBus>(
    r: &mut Registers<B>,
    f: usize,
    reg: &Register,
    value: u32,
) -> Result<(), NicSimError> {
    Ok(r.write(&pf::function_register(f, reg), value)?)
}

fn stage_key_on<B: RegisterBus>(
    r: &mut Registers<B>,
    vni: Vni,
    mac: &MacAddr,
) -> Result<(), NicSimError> {
    Ok(ops::stage_key(r, vni, mac)?)
}

fn add_entry_on<B: RegisterBus>(
    r: &mut Registers<B>,
    vni: Vni,
    mac: &MacAddr,
    vtep_ip: u32,
    vtep_mac: &MacAddr,
) -> Result<(), NicSimError> {
    let e = overlay_nic_driver::MapEntry {
        vni,
        mac: *mac,
        vtep_ip: vtep_ip.into(),
        vtep_mac: *vtep_mac,
    };
    ops::add_entry(r, &e)
        .map_err(|err| driver_error(err, || format!("VNI {} MAC {mac}", vni.get())))
}

/// Rings a table's doorbell and waits for the result.
fn command_on<B: RegisterBus>(
    r: &mut Registers<B>,
    table: &'static str,
    doorbell: &Register,
    status: &Register,
    code: u32,
    what: impl Fn() -> String,
) -> Result<(), NicSimError> {
    ops::table_command(r, table, doorbell, status, code).map_err(|e| driver_error(e, what))
}
