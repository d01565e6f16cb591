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
use overlay_nic_driver::nic_config::MacAddr;
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
        self.receive_to(frames, traffic, Some(expect))
    }

    /// Sends `frames` in as [`NicSim::receive`] does, without knowing what
    /// will come out: runs until every frame is in and no port has moved a
    /// beat for [`crate::tx::QUIET_CYCLES`] with no copy half delivered.
    pub fn receive_until_idle(
        &mut self,
        frames: &[Vec<u8>],
        traffic: RxTraffic,
    ) -> Result<RxRun, NicSimError> {
        self.receive_to(frames, traffic, None)
    }

    fn receive_to(
        &mut self,
        frames: &[Vec<u8>],
        traffic: RxTraffic,
        expect: Option<usize>,
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
        let (mut last_moved, mut last_move_cycle) = (0u64, start);
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
            let out_beats: u64 = monitors.iter().map(|m| m.beats()).sum();
            let moved = out_beats + driver.beats_sent();
            if moved != last_moved {
                (last_moved, last_move_cycle) = (moved, sim.cycle());
            }
            match expect {
                Some(n) => {
                    if drain.is_none() && driver.done() && got >= n {
                        drain = Some(sim.cycle() + DRAIN_CYCLES);
                    }
                    if drain.is_some_and(|end| sim.cycle() >= end) {
                        break;
                    }
                }
                // Only once quiet: the whole-frame count walks every copy.
                None if driver.done()
                    && sim.cycle() - last_move_cycle >= crate::tx::QUIET_CYCLES =>
                {
                    let whole: u64 = monitors
                        .iter()
                        .flat_map(|m| m.frames())
                        .map(|f| f.data.len().div_ceil(8) as u64)
                        .sum();
                    if out_beats == whole {
                        break;
                    }
                }
                None => {}
            }
            if sim.cycle() - start > max_cycles {
                return Err(StreamError::Timeout {
                    cycles: max_cycles,
                    received: got,
                    expected: expect.unwrap_or(0),
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
        let expected = expect.unwrap_or(delivered.len());
        if delivered.len() > expected || beats_seen > whole {
            return Err(StreamError::ExtraOutput {
                expected,
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
        let mut drops = [0u32; 11];
        for (d, reg) in drops.iter_mut().zip(RX_DROP_REGISTERS) {
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

/// The global RX drop counters, indexed like `RxDrop::ALL`
/// (`RX_DROP_OVERFLOW` is the hardware's own, outside the model's list).
pub const RX_DROP_REGISTERS: [&overlay_nic_regmap::Register; 11] = [
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

/// Outer headers for test and benchmark traffic: everything consistent,
/// the outer IPv4 checksum right, the UDP checksum right or zero.
#[derive(Clone, Debug, PartialEq)]
pub struct OuterHeaders {
    pub dst_mac: MacAddr,
    pub src_mac: MacAddr,
    /// An outer 802.1Q tag with this VLAN ID.
    pub vlan: Option<u16>,
    /// IPv4 option words (each 4 bytes of 1, NOP).
    pub options: usize,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    /// UDP destination port.
    pub port: u16,
    /// VXLAN flags and reserved bytes 1-3 (`[0x08, 0, 0, 0]` is the norm).
    pub flags: [u8; 4],
    pub vni: u32,
    /// VXLAN's last (reserved) byte.
    pub last: u8,
    /// Fill in the UDP checksum (else 0).
    pub udp_csum: bool,
}

fn ones_sum(bytes: &[u8]) -> u32 {
    bytes
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .sum()
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// `inner` inside `o`'s outer headers. Written independently of both the
/// HDL and the golden model (which has its own encapsulation), so tests
/// can build frames the golden model would never make.
pub fn encapsulate(o: &OuterHeaders, inner: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&o.dst_mac.0);
    f.extend_from_slice(&o.src_mac.0);
    if let Some(v) = o.vlan {
        f.extend_from_slice(&[0x81, 0x00, (v >> 8) as u8, v as u8]);
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let l3 = f.len();
    let ihl = 5 + o.options;
    let total = (4 * ihl + 16 + inner.len()) as u16;
    f.extend_from_slice(&[0x40 | ihl as u8, 0, (total >> 8) as u8, total as u8]);
    f.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&o.src_ip.octets());
    f.extend_from_slice(&o.dst_ip.octets());
    f.extend(std::iter::repeat_n(1u8, 4 * o.options));
    let c = !fold(ones_sum(&f[l3..]));
    f[l3 + 10] = (c >> 8) as u8;
    f[l3 + 11] = c as u8;
    let l4 = f.len();
    let ulen = (16 + inner.len()) as u16;
    f.extend_from_slice(&[0xc0, 0x01, (o.port >> 8) as u8, o.port as u8]);
    f.extend_from_slice(&[(ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend_from_slice(&o.flags);
    f.extend_from_slice(&[(o.vni >> 16) as u8, (o.vni >> 8) as u8, o.vni as u8, o.last]);
    f.extend_from_slice(inner);
    if o.udp_csum {
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&o.src_ip.octets());
        pseudo.extend_from_slice(&o.dst_ip.octets());
        pseudo.extend_from_slice(&[0, 17, (ulen >> 8) as u8, ulen as u8]);
        let mut c = !fold(ones_sum(&pseudo) + ones_sum(&f[l4..]));
        if c == 0 {
            c = 0xffff;
        }
        f[l4 + 6] = (c >> 8) as u8;
        f[l4 + 7] = c as u8;
    }
    f
}

/// What the RX benchmark's frames are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxBenchKind {
    /// VXLAN from a known sender to VF0's MAC: decapsulated to VF0.
    Unicast,
    /// The same with the outer 802.1Q tag.
    UnicastVlan,
    /// VXLAN to the VNI's multicast group: a copy to the PF and VF0.
    Multicast,
    /// Plain IPv4 UDP to another port: to the PF untouched.
    NonOverlay,
}

impl RxBenchKind {
    pub const ALL: [RxBenchKind; 4] = [
        RxBenchKind::Unicast,
        RxBenchKind::UnicastVlan,
        RxBenchKind::Multicast,
        RxBenchKind::NonOverlay,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RxBenchKind::Unicast => "VXLAN to VF0",
            RxBenchKind::UnicastVlan => "VXLAN + outer VLAN to VF0",
            RxBenchKind::Multicast => "VXLAN multicast to PF + VF0",
            RxBenchKind::NonOverlay => "non-overlay to PF",
        }
    }

    fn copies(self) -> usize {
        if self == RxBenchKind::Multicast {
            2
        } else {
            1
        }
    }
}

/// VF0's MAC in the RX benchmark configuration.
pub const BENCH_VF0: MacAddr = MacAddr([2, 0, 0, 0, 1, 0]);

/// The TX benchmark's configuration plus VF0 in VNI 5001, so that frames
/// from the table's VM ([`crate::tx::BENCH_DST`] at 10.0.0.2) to VF0 are
/// known and unicast.
pub fn rx_bench_config(vlan: bool) -> overlay_nic_driver::nic_config::NicConfig {
    let mut c = crate::tx::bench_config(vlan);
    c.vfs.push(overlay_nic_driver::nic_config::VfConfig {
        mac: BENCH_VF0,
        vni: Some(overlay_nic_driver::vxlan::Vni::new(5001).expect("VNI")),
        mtu: 9000,
    });
    c
}

/// A wire frame of the RX benchmark whose inner frame is `inner_len` bytes
/// (for [`RxBenchKind::NonOverlay`]: the whole frame is `inner_len`).
pub fn rx_bench_frame(kind: RxBenchKind, inner_len: usize, seq: usize) -> Vec<u8> {
    let mut inner = crate::tx::bench_frame(inner_len, seq);
    if kind == RxBenchKind::NonOverlay {
        // IPv4 UDP to port 53 from 10.0.0.9, with a right header checksum.
        let head = [
            0x02, 0, 10, 0, 0, 1, 0x02, 0, 0, 9, 9, 9, 0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 64,
            17, 0, 0, 10, 0, 0, 9, 10, 0, 0, 1, 0xc0, 0x01, 0, 53,
        ];
        let n = head.len().min(inner_len);
        inner[..n].copy_from_slice(&head[..n]);
        return inner;
    }
    let dst = if kind == RxBenchKind::Multicast {
        [0xff; 6]
    } else {
        BENCH_VF0.0
    };
    inner[..6].copy_from_slice(&dst);
    inner[6..12].copy_from_slice(&crate::tx::BENCH_DST.0);
    let multicast = kind == RxBenchKind::Multicast;
    encapsulate(
        &OuterHeaders {
            dst_mac: if multicast {
                MacAddr([1, 0, 0x5e, 1, 1, 1])
            } else {
                MacAddr([2, 0, 10, 0, 0, 1])
            },
            src_mac: MacAddr([2, 0, 10, 0, 0, 2]),
            vlan: (kind == RxBenchKind::UnicastVlan).then_some(100),
            options: 0,
            src_ip: Ipv4Addr::new(10, 0, 0, 2),
            dst_ip: if multicast {
                Ipv4Addr::new(239, 1, 1, 1)
            } else {
                Ipv4Addr::new(10, 0, 0, 1)
            },
            port: 4789,
            flags: [0x08, 0, 0, 0],
            vni: 5001,
            last: 0,
            udp_csum: false,
        },
        &inner,
    )
}

/// One row of the RX line-rate benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct RxLineRate {
    pub kind: RxBenchKind,
    pub wire_bytes: usize,
    pub frames: usize,
    /// Cycles from the first wire beat to the last: the wire offered a beat
    /// every cycle and the NIC took every one.
    pub wire_cycles: u64,
    /// Sum of ceil(len / 8) over the frames.
    pub wire_beats: u64,
    /// Copies delivered (frames x copies per frame when nothing is lost).
    pub delivered: usize,
    /// Frames dropped for a full buffer.
    pub overflow: u32,
    /// Cycles from the first frame's last wire beat to its first host beat,
    /// and to its last host beat.
    pub latency_first: u64,
    pub latency_last: u64,
}

impl NicSim {
    /// Sends `frames` back-to-back wire frames of `kind` (inner frames of
    /// `inner_len` bytes) with every host port always ready.
    pub fn rx_line_rate(
        &mut self,
        kind: RxBenchKind,
        inner_len: usize,
        frames: usize,
    ) -> Result<RxLineRate, NicSimError> {
        let wire: Vec<Vec<u8>> = (0..frames)
            .map(|i| rx_bench_frame(kind, inner_len, i))
            .collect();
        let run = self.receive(&wire, RxTraffic::default(), frames * kind.copies())?;
        let (_, overflow) = self.rx_counters()?;
        let first = &run.delivered[0];
        let last_of_first = run
            .delivered
            .iter()
            .filter(|d| d.first_cycle == first.first_cycle)
            .map(|d| d.last_cycle)
            .max()
            .unwrap_or(first.last_cycle);
        Ok(RxLineRate {
            kind,
            wire_bytes: wire[0].len(),
            frames,
            wire_cycles: run.last_in_cycle[frames - 1] - run.first_in_cycle[0] + 1,
            wire_beats: wire.iter().map(|f| f.len().div_ceil(8) as u64).sum(),
            delivered: run.delivered.len(),
            overflow,
            latency_first: first.first_cycle - run.last_in_cycle[0],
            latency_last: last_of_first - run.last_in_cycle[0],
        })
    }
}
