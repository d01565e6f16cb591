//! The RX path under simulation: wire frames in, every host function's
//! stream collected, counters read back through registers.
//!
//! The same [`NicSim`] as TX (one NIC, one register slave); this module
//! adds the receive side. The wire is never back-pressured (a MAC cannot
//! be), so the only stalls are seeded idle cycles between wire beats and
//! seeded back-pressure on each host port.
//!
//! ```no_run
//! use overlay_nic_driver::nic_config::NicConfig;
//! use overlay_nic_sim::rx::RxTraffic;
//! use overlay_nic_sim::tx::NicSim;
//!
//! let config = NicConfig::from_toml(include_str!("../../examples/nic.toml")).unwrap();
//! let mut nic = NicSim::new(1).unwrap();
//! nic.program(&config).unwrap();
//! let run = nic.receive(&[vec![0xff; 60]], RxTraffic::default(), 1).unwrap();
//! println!("{} frame(s) delivered", run.delivered.len());
//! ```

use crate::frames::{Frame, StreamDriver, StreamError, StreamMonitor};
use crate::tx::{NicSim, NicSimError};
use overlay_nic_driver::rx::{ChecksumStatus, RxCounters, RxFunctionCounters, RxMeta as ModelMeta};
use overlay_nic_driver::tx::Function;
use overlay_nic_hdl::rx_types::RxMeta;
use overlay_nic_regmap::pf::{self, function as fr};
use rust_hdl::prelude::*;
use std::net::Ipv4Addr;

/// Stalls for an RX run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RxTraffic {
    pub seed: u64,
    /// Probability that the wire has no beat in a cycle (inside or between
    /// frames).
    pub idle: f64,
    /// Probability that a host port refuses a beat in a cycle.
    pub backpressure: f64,
}

impl Default for RxTraffic {
    fn default() -> Self {
        RxTraffic {
            seed: 1,
            idle: 0.0,
            backpressure: 0.0,
        }
    }
}

/// One frame as a host function received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    pub function: Function,
    pub data: Vec<u8>,
    pub meta: ModelMeta,
    /// Cycles of its first and last beat.
    pub first_cycle: u64,
    pub last_cycle: u64,
}

/// What an RX run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RxRun {
    /// Every delivered copy, in the order their first beats appeared
    /// (copies of one frame: by function).
    pub delivered: Vec<Delivered>,
    /// Cycle each wire frame's first and last beat was taken.
    pub first_in_cycle: Vec<u64>,
    pub last_in_cycle: Vec<u64>,
    pub cycles: u64,
}

/// The HDL's metadata in the golden model's terms.
pub fn model_meta(m: &RxMeta) -> ModelMeta {
    let status = |c: u64| match c {
        1 => ChecksumStatus::Good,
        2 => ChecksumStatus::Bad,
        _ => ChecksumStatus::None,
    };
    ModelMeta {
        decapsulated: m.decap,
        vni: m.vni.to_u64() as u32,
        src_vtep_ip: Ipv4Addr::from(m.src_vtep_ip.to_u64() as u32),
        vlan: m.vlan_valid.then_some(m.vlan.to_u64() as u16),
        ip_checksum: status(m.ip_csum.to_u64()),
        l4_checksum: status(m.l4_csum.to_u64()),
        learn: m.learn,
    }
}

impl NicSim {
    /// Sends `frames` in from the wire, in order, and runs until `expect`
    /// copies have been delivered in all and the wire is idle, plus a drain
    /// window in which any further output is an error.
    pub fn receive(
        &mut self,
        frames: &[Vec<u8>],
        traffic: RxTraffic,
        expect: usize,
    ) -> Result<RxRun, NicSimError> {
        const DRAIN_CYCLES: u64 = 96;
        let nf = self.build().functions();
        let mut driver: StreamDriver<Bit> = StreamDriver::new(traffic.seed, traffic.idle);
        for f in frames {
            if f.is_empty() {
                return Err(NicSimError::EmptyFrame);
            }
            driver.push(Frame::new(f.clone(), false))?;
        }
        let mut monitors: Vec<StreamMonitor<RxMeta>> = (0..nf)
            .map(|f| {
                StreamMonitor::new(
                    traffic.seed ^ 0x5eed ^ (f as u64 * 104_729),
                    traffic.backpressure,
                )
            })
            .collect();
        let mut first_in_cycle = vec![0u64; frames.len()];
        let mut last_in_cycle = vec![0u64; frames.len()];
        let sim = self.sim();
        let start = sim.cycle();
        let beats: u64 = frames.iter().map(|f| f.len() as u64 / 8 + 2).sum();
        let slowdown = 1.0 / ((1.0 - traffic.backpressure) * (1.0 - traffic.idle)).max(0.01);
        let max_cycles = 10_000 + (2.0 * (nf as u64 * beats) as f64 * slowdown) as u64;
        let mut drain: Option<u64> = None;
        let mut in_frame = false;
        loop {
            let cycle = sim.cycle();
            driver.drive(&mut sim.uut().s_wire);
            for (f, m) in monitors.iter_mut().enumerate() {
                m.drive(&mut sim.uut().m_host[f]);
            }
            sim.settle()?;
            let before = driver.frames_sent();
            let taking = sim.uut().s_wire.tvalid.val() && sim.uut().s_wire.tready.val();
            if taking && !in_frame {
                first_in_cycle[before as usize] = cycle;
            }
            if taking {
                in_frame = !sim.uut().s_wire.tlast.val();
            }
            driver.observe(&sim.uut().s_wire);
            if driver.frames_sent() > before {
                last_in_cycle[before as usize] = cycle;
            }
            for (f, m) in monitors.iter_mut().enumerate() {
                m.observe(&sim.uut().m_host[f], cycle);
            }
            sim.tick()?;
            for m in &monitors {
                if let Some(v) = m.violation() {
                    return Err(StreamError::Protocol {
                        cycle,
                        what: v.to_string(),
                    }
                    .into());
                }
            }
            let got: usize = monitors.iter().map(|m| m.frames().len()).sum();
            if drain.is_none() && driver.done() && got >= expect {
                drain = Some(sim.cycle() + DRAIN_CYCLES);
            }
            if drain.is_some_and(|end| sim.cycle() >= end) {
                break;
            }
            if sim.cycle() - start > max_cycles {
                return Err(StreamError::Timeout {
                    cycles: max_cycles,
                    received: got,
                    expected: expect,
                }
                .into());
            }
        }
        let mut delivered = Vec::new();
        let (mut beats_seen, mut whole) = (0u64, 0u64);
        for (f, m) in monitors.iter_mut().enumerate() {
            m.set_ready(&mut sim.uut().m_host[f], true);
            beats_seen += m.beats();
            whole += m
                .frames()
                .iter()
                .map(|r| r.data.len().div_ceil(8) as u64)
                .sum::<u64>();
            for r in m.frames() {
                delivered.push(Delivered {
                    function: Function::from_index(f),
                    data: r.data.clone(),
                    meta: model_meta(&r.meta),
                    first_cycle: r.first_cycle,
                    last_cycle: r.last_cycle,
                });
            }
        }
        if delivered.len() > expect || beats_seen > whole {
            return Err(StreamError::ExtraOutput {
                expected: expect,
                extra_beats: beats_seen - whole.min(beats_seen),
            }
            .into());
        }
        delivered.sort_by_key(|d| (d.first_cycle, d.function.index()));
        Ok(RxRun {
            delivered,
            first_in_cycle,
            last_in_cycle,
            cycles: sim.cycle() - start,
        })
    }

    /// The global RX counters, read through the register slave, and the
    /// overflow drops (`RX_DROP_OVERFLOW`, which the model does not have).
    pub fn rx_counters(&mut self) -> Result<(RxCounters, u32), NicSimError> {
        let r = self.registers();
        let drop_regs = [
            &pf::RX_DROP_TRUNCATED,
            &pf::RX_DROP_IP_LENGTH,
            &pf::RX_DROP_IP_CHECKSUM,
            &pf::RX_DROP_FRAGMENT,
            &pf::RX_DROP_UDP_LENGTH,
            &pf::RX_DROP_UDP_CHECKSUM,
            &pf::RX_DROP_DST_MAC,
            &pf::RX_DROP_VXLAN_FLAGS,
            &pf::RX_DROP_NO_VNI,
            &pf::RX_DROP_DST_IP,
            &pf::RX_DROP_VLAN,
        ];
        let mut drops = [0u32; 11];
        for (d, reg) in drops.iter_mut().zip(drop_regs) {
            *d = r.read(reg)?;
        }
        Ok((
            RxCounters {
                wire_frames: r.read(&pf::RX_WIRE_FRAMES)?,
                wire_bytes: r.read(&pf::RX_WIRE_BYTES)?,
                non_overlay: r.read(&pf::RX_NON_OVERLAY)?,
                decapsulated: r.read(&pf::RX_DECAPSULATED)?,
                learn: r.read(&pf::RX_LEARN)?,
                drops,
            },
            r.read(&pf::RX_DROP_OVERFLOW)?,
        ))
    }

    /// A function's RX counters, read through the register slave.
    pub fn rx_function_counters(
        &mut self,
        function: Function,
    ) -> Result<RxFunctionCounters, NicSimError> {
        let f = function.index();
        if f > self.build().vfs {
            return Err(NicSimError::NoSuchFunction(function, self.build().vfs));
        }
        let r = self.registers();
        let mut read = |x: &overlay_nic_regmap::Register| r.read(&pf::function_register(f, x));
        Ok(RxFunctionCounters {
            frames: read(&fr::RX_FRAMES)?,
            bytes: read(&fr::RX_BYTES)?,
            decapsulated: read(&fr::RX_DECAPSULATED)?,
            drop_inner_checksum: read(&fr::RX_DROP_INNER_CHECKSUM)?,
        })
    }
}
