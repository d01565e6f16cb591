//! A multi-host co-simulation: hypervisor hosts, each with its overlay NIC
//! (the cycle-accurate HDL by default, or the behavioural model) driven by
//! the driver model (PCIe enumeration, PF driver, VTEP software); an
//! underlay of VTEP subnets joined by a router that routes multicast; and
//! VMs, attached through a VF or through the hypervisor's switch on the PF,
//! that answer ARP and ping and send TCP (with TSO) and UDP streams.
//!
//! A [`scenario::Scenario`] describes the world and a timeline of events
//! with expectations; [`run`] plays it and returns an [`Outcome`]: the
//! timeline as it happened, the expectations that failed, each NIC's
//! counters read back over its registers, and the isolation check (every
//! frame any VM received was sent by a VM of its own tenant).
//!
//! The world advances in rounds: every VM's queued frames go to its host
//! (VF frames straight to the NIC; PF VMs' frames through the hypervisor's
//! switch, tagged with their VNI), each NIC's wire output crosses the
//! underlay, each NIC receives what reached it, the VTEP software drains
//! the NIC's events (learning) and answers ARP for VF VMs (FIG. 15), and
//! the deliveries reach the VMs, whose answers go out in the next round.
//! When nothing moves and an application still waits, one retransmission
//! timeout elapses (ARP retries, lost echoes, TCP go-back).

pub mod backend;
pub mod report;
pub mod scenario;
pub mod underlay;
pub mod vm;

use crate::streaming_nic::StepOutput;
use backend::Backend;
use overlay_nic_driver::device::{DeviceError, HostFrame};
use overlay_nic_driver::nic_config::{MacAddr, VniRecord, VtepConfig};
use overlay_nic_driver::pf_driver::PfDriver;
use overlay_nic_driver::rx::RxDelivery;
use overlay_nic_driver::tx::{Function, NicEvent};
use overlay_nic_driver::vtep::{is_arp_reply, Attachment, LocalVm, VtepSoftware};
use report::NicSummary;
use scenario::{describe, BackendKind, Event, Expect, Scenario};
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use underlay::{Underlay, UnderlayStats};
use vm::{AppStatus, Outgoing, Vm, VmConfig};

/// The demo's scenario (`overlay-nic demo`), embedded.
pub const DEMO_SCENARIO: &str = include_str!("../../../examples/demo.toml");

/// The core clock the timeline's times assume: 156.25 MHz (10 GbE at 64
/// bits), 6.4 ns a cycle.
pub const CYCLE_PS: u64 = 6_400;

/// How long a retransmission timeout lasts on the timeline.
pub const TIMEOUT_NS: u64 = 1_000_000;

/// Cycles every busy NIC advances per step of the world; frames cross the
/// underlay between steps (102.4 ns: a switch hop's latency).
pub const QUANTUM: u64 = 16;

/// Steps without the network going quiet after which a run is stuck
/// (100 ms of network time).
const MAX_STEPS: usize = 1_000_000;

/// Timeouts one event may take before its applications are given up.
const MAX_TIMEOUTS: usize = 12;

/// A VM sends TSO sends of at most this many payload bytes (the default
/// build's largest frame is 16,384 bytes).
const MAX_SEND: usize = 16_000;

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Which NIC every host has.
    pub backend: BackendKind,
    /// Write every frame the NICs put on the wire here (pcap).
    pub pcap: Option<PathBuf>,
    /// Write this host's NIC waveform (HDL back end).
    pub vcd: Option<(String, PathBuf)>,
    /// Show a progress bar on stderr (when it is a terminal).
    pub progress: bool,
    /// Print the timeline as it happens.
    pub echo: bool,
}

/// Why a run could not be carried out (as opposed to an expectation that
/// failed, which is an [`Outcome`]'s).
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    #[error("host `{host}`: {msg}")]
    Host { host: String, msg: String },
    #[error("{0}")]
    Output(String),
    #[error("the network did not go quiet within {MAX_STEPS} steps during `{0}`")]
    Stuck(String),
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Simulated time, ns from the start.
    pub time_ns: u64,
    /// An event header (`true`) or what happened during it.
    pub header: bool,
    pub text: String,
}

/// A frame delivered to a VM that its tenant should never have seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub to_vm: String,
    pub from: String,
    pub vni: u32,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub title: String,
    pub backend: BackendKind,
    pub timeline: Vec<TimelineEntry>,
    /// Expectations that failed, each naming its event.
    pub failures: Vec<String>,
    /// Expectations checked.
    pub checks: usize,
    pub nics: Vec<NicSummary>,
    pub underlay: UnderlayStats,
    /// Frames delivered to VMs, all checked for isolation.
    pub frames_to_vms: u64,
    pub violations: Vec<Violation>,
    /// Frames the NICs put on the wire.
    pub wire_frames: u64,
    /// Simulated time at the end.
    pub sim_ns: u64,
    /// Wall-clock time of the run.
    pub wall: Duration,
}

impl Outcome {
    /// Every expectation held and no frame crossed tenants.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.violations.is_empty()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", report::summary_table(&self.nics))?;
        let u = &self.underlay;
        writeln!(
            f,
            "underlay: {} frames from NICs; {} switched, {} routed, {} multicast copies; dropped: {} no route, {} TTL, {} unknown MAC, {} group without members, {} not IPv4",
            u.frames, u.switched, u.routed, u.multicast_copies, u.drop_no_route, u.drop_ttl,
            u.drop_unknown_mac, u.drop_no_member, u.drop_not_ipv4
        )?;
        writeln!(
            f,
            "isolation: {} frames delivered to VMs, {} from another tenant",
            self.frames_to_vms,
            self.violations.len()
        )?;
        for v in &self.violations {
            writeln!(
                f,
                "  VIOLATION: {} got a frame from {} (VNI {})",
                v.to_vm, v.from, v.vni
            )?;
        }
        writeln!(
            f,
            "expectations: {} checked, {} failed",
            self.checks,
            self.failures.len()
        )?;
        for x in &self.failures {
            writeln!(f, "  FAILED: {x}")?;
        }
        write!(
            f,
            "simulated {:.1} us of network time ({} back end) in {:.1} s",
            self.sim_ns as f64 / 1000.0,
            match self.backend {
                BackendKind::Hdl => "HDL",
                BackendKind::Model => "model",
            },
            self.wall.as_secs_f64()
        )
    }
}

struct HostState {
    name: String,
    vtep: VtepSoftware<Backend>,
    /// Tenants with a segment on this host.
    segments: BTreeSet<usize>,
    learn_events: u64,
    miss_events: u64,
}

struct VmState {
    stack: Vm,
    /// Where it runs, when it runs.
    at: Option<(usize, Function)>,
}

/// A frame on its way to a VM, with the VNI it arrived on (`None` when the
/// hypervisor's switch delivered it locally).
struct ToVm {
    vm: usize,
    frame: Vec<u8>,
    vni: Option<u32>,
}

struct World {
    sc: Scenario,
    /// The NICs have a clock (HDL): rates mean something.
    clocked: bool,
    hosts: Vec<HostState>,
    vms: Vec<VmState>,
    underlay: Underlay,
    /// Network time, picoseconds.
    time_ps: u64,
    timeline: Vec<TimelineEntry>,
    echo: Option<indicatif::ProgressBar>,
    print: bool,
    pcap: Option<crate::capture::CaptureWriter<std::io::BufWriter<std::fs::File>>>,
    wire_frames: u64,
    frames_to_vms: u64,
    violations: Vec<Violation>,
    /// Probe markers seen by each VM: (probe number, VM).
    probes_seen: Vec<(u32, usize)>,
    /// Wire frames and TSO sends during the current event.
    event_wire: u64,
    event_timeouts: usize,
}

/// The marker a probe frame carries.
const PROBE_MAGIC: &[u8] = b"overlay-nic probe #";

/// Plays `sc` and reports what happened. Errors are the runs that could not
/// be carried out; failed expectations are in the [`Outcome`].
pub fn run(sc: &Scenario, opts: &RunOptions) -> Result<Outcome, WorldError> {
    let start = Instant::now();
    let mut w = World::new(sc.clone(), opts)?;
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(sc.timeline.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .expect("template"),
        );
        Some(b)
    } else {
        None
    };
    w.echo = bar.clone();
    let mut failures = Vec::new();
    let mut checks = 0;
    for (n, e) in sc.timeline.iter().enumerate() {
        let name = format!("event {} ({})", n + 1, describe(e));
        if let Some(b) = &bar {
            b.set_message(describe(e));
        }
        w.header(format!("#{} {}", n + 1, describe(e)));
        let result = w.play(n, e)?;
        if let Some(check) = result {
            checks += 1;
            match check {
                Ok(msg) => w.note(format!("ok: {msg}")),
                Err(msg) => {
                    w.note(format!("FAILED: {msg}"));
                    failures.push(format!("{name}: {msg}"));
                }
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    w.echo = None;
    let nics = w.summaries()?;
    if let Some(p) = w.pcap.take() {
        p.finish().map_err(|e| WorldError::Output(e.to_string()))?;
    }
    Ok(Outcome {
        title: sc.title.clone(),
        backend: opts.backend,
        timeline: w.timeline,
        failures,
        checks,
        nics,
        underlay: w.underlay.stats(),
        frames_to_vms: w.frames_to_vms,
        violations: w.violations,
        wire_frames: w.wire_frames,
        sim_ns: w.time_ps / 1000,
        wall: start.elapsed(),
    })
}

impl World {
    fn new(sc: Scenario, opts: &RunOptions) -> Result<World, WorldError> {
        let mut hosts = Vec::new();
        let mut timeline = Vec::new();
        for h in &sc.hosts {
            let err = |msg: String| WorldError::Host {
                host: h.name.clone(),
                msg,
            };
            let mut device = Backend::new(opts.backend).map_err(|e| err(e.to_string()))?;
            if let Some((host, path)) = &opts.vcd {
                if *host == h.name {
                    device.trace_to(path).map_err(err)?;
                }
            }
            let mut pf = PfDriver::probe(device).map_err(|e| err(e.to_string()))?;
            let vfs = pf.capabilities().vfs;
            pf.enable_vfs(vfs).map_err(|e| err(e.to_string()))?;
            let subnet = &sc.subnets[h.subnet];
            let vtep = VtepConfig::new(
                h.vtep_mac,
                h.vtep_ip,
                subnet.prefix.netmask(),
                subnet.router_mac,
            );
            let vtep = VtepSoftware::new(pf, vtep).map_err(|e| err(e.to_string()))?;
            timeline.push(TimelineEntry {
                time_ns: 0,
                header: false,
                text: format!(
                    "{}: NIC probed over PCIe, {vfs} VFs enabled, VTEP {} on {} ({}), gateway {}",
                    h.name, h.vtep_ip, subnet.name, subnet.prefix, subnet.router_mac
                ),
            });
            hosts.push(HostState {
                name: h.name.clone(),
                vtep,
                segments: BTreeSet::new(),
                learn_events: 0,
                miss_events: 0,
            });
        }
        if let Some((host, _)) = &opts.vcd {
            if sc.host(host).is_none() {
                return Err(WorldError::Output(format!("--vcd: no host `{host}`")));
            }
        }
        let vms = sc
            .vms
            .iter()
            .map(|v| VmState {
                stack: Vm::new(VmConfig {
                    name: v.name.clone(),
                    mac: v.mac,
                    ip: v.ip,
                    mtu: v.mtu,
                    max_send: MAX_SEND,
                }),
                at: None,
            })
            .collect();
        let pcap = match &opts.pcap {
            Some(p) => Some(
                crate::capture::CaptureWriter::create(p)
                    .map_err(|e| WorldError::Output(format!("{}: {e}", p.display())))?,
            ),
            None => None,
        };
        let underlay = Underlay::new(sc.subnets.clone(), sc.hosts.clone());
        let mut w = World {
            sc,
            clocked: opts.backend == BackendKind::Hdl,
            hosts,
            vms,
            underlay,
            time_ps: 0,
            timeline: Vec::new(),
            echo: None,
            print: opts.echo,
            pcap,
            wire_frames: 0,
            frames_to_vms: 0,
            violations: Vec::new(),
            probes_seen: Vec::new(),
            event_wire: 0,
            event_timeouts: 0,
        };
        w.header("setup".into());
        for t in timeline {
            w.note(t.text);
        }
        for i in 0..w.sc.vms.len() {
            if w.sc.vms[i].running {
                let (h, a) = (w.sc.vms[i].host, w.sc.vms[i].attach);
                w.place(i, h, a)?;
            }
        }
        Ok(w)
    }

    fn log(&mut self, header: bool, text: String) {
        let line = if header {
            format!("[{:>10.3} us] {text}", self.time_ps as f64 / 1e6)
        } else {
            format!("{:16}{text}", "")
        };
        if self.print {
            match &self.echo {
                Some(b) if !b.is_hidden() => b.println(&line),
                _ => println!("{line}"),
            }
        }
        self.timeline.push(TimelineEntry {
            time_ns: self.time_ps / 1000,
            header,
            text,
        });
    }

    fn header(&mut self, text: String) {
        self.log(true, text);
    }

    fn note(&mut self, text: String) {
        self.log(false, text);
    }

    fn host_err(&self, h: usize, e: impl fmt::Display) -> WorldError {
        WorldError::Host {
            host: self.hosts[h].name.clone(),
            msg: e.to_string(),
        }
    }

    fn vm_name_of(&self, mac: MacAddr) -> String {
        self.sc
            .vms
            .iter()
            .find(|v| v.mac == mac)
            .map_or_else(|| mac.to_string(), |v| v.name.clone())
    }

    fn host_of_vtep(&self, ip: std::net::Ipv4Addr) -> String {
        self.sc
            .hosts
            .iter()
            .find(|h| h.vtep_ip == ip)
            .map_or_else(|| ip.to_string(), |h| h.name.clone())
    }

    /// Powers VM `i` on at host `h`, function `a`: the tenant's segment and
    /// multicast group on the host first, then the VTEP software's "VM
    /// joins" (a VF VM's VF gets its MAC, MTU, VNI through the callbacks).
    fn place(&mut self, i: usize, h: usize, a: Function) -> Result<(), WorldError> {
        let t = self.sc.vms[i].tenant;
        let tenant = self.sc.tenants[t].clone();
        if self.hosts[h].segments.insert(t) {
            let record = VniRecord {
                vni: tenant.vni,
                multicast_group: tenant.multicast_group,
                gateway_ip: std::net::Ipv4Addr::UNSPECIFIED,
                gateway_mac: MacAddr([0; 6]),
                miss_policy: tenant.miss_policy,
            };
            self.hosts[h]
                .vtep
                .add_segment(record)
                .map_err(|e| self.host_err(h, e))?;
            self.underlay.join_group(h, tenant.multicast_group);
            let name = self.hosts[h].name.clone();
            self.note(format!(
                "{name}: segment VNI {} ({}) added, joined group {}",
                tenant.vni, tenant.name, tenant.multicast_group
            ));
        }
        let spec = &self.sc.vms[i];
        let vm = LocalVm {
            mac: spec.mac,
            ip: spec.ip,
            vni: tenant.vni,
            attachment: match a {
                Function::Pf => Attachment::Pf,
                Function::Vf(v) => Attachment::Vf(v),
            },
        };
        let mtu = u32::from(spec.mtu);
        self.hosts[h]
            .vtep
            .vm_migrates_in(vm, mtu)
            .map_err(|e| self.host_err(h, e))?;
        self.vms[i].stack.set_mtu(spec.mtu);
        self.vms[i].at = Some((h, a));
        let text = format!(
            "{}: {} ({}, {} {}) runs on {}",
            self.hosts[h].name,
            spec.name,
            tenant.name,
            spec.ip,
            spec.mac,
            match a {
                Function::Pf => "the PF (hypervisor switch)".to_string(),
                Function::Vf(v) => format!("VF{v} (pass-through)"),
            }
        );
        self.note(text);
        Ok(())
    }

    /// Plays one event; returns its expectation's result, if it has one.
    fn play(&mut self, n: usize, e: &Event) -> Result<Option<Result<String, String>>, WorldError> {
        self.event_wire = 0;
        self.event_timeouts = 0;
        let vm = |w: &World, name: &str| w.sc.vm(name).expect("validated");
        let label = describe(e);
        match e {
            Event::Join {
                vm: v,
                host,
                attach,
            } => {
                let i = vm(self, v);
                let h = host
                    .as_ref()
                    .map_or(self.sc.vms[i].host, |h| self.sc.host(h).expect("validated"));
                let a = attach.as_ref().map_or(self.sc.vms[i].attach, |a| {
                    scenario::parse_attach(a).expect("validated")
                });
                self.place(i, h, a)?;
                Ok(None)
            }
            Event::Leave { vm: v } => {
                let i = vm(self, v);
                let (h, _) = self.vms[i].at.take().expect("validated: running");
                let mac = self.sc.vms[i].mac;
                self.hosts[h]
                    .vtep
                    .vm_leaves(mac)
                    .map_err(|e| self.host_err(h, e))?;
                let name = self.hosts[h].name.clone();
                self.note(format!("{name}: {v} powered off, its VF released"));
                Ok(None)
            }
            Event::Migrate {
                vm: v,
                host,
                attach,
            } => {
                let i = vm(self, v);
                let to = self.sc.host(host).expect("validated");
                let a = scenario::parse_attach(attach).expect("validated");
                let (from, _) = self.vms[i].at.take().expect("validated: running");
                let mac = self.sc.vms[i].mac;
                let (ip, vmac) = (self.sc.hosts[to].vtep_ip, self.sc.hosts[to].vtep_mac);
                self.hosts[from]
                    .vtep
                    .vm_migrates_out(mac, ip, vmac)
                    .map_err(|e| self.host_err(from, e))?;
                let fname = self.hosts[from].name.clone();
                self.note(format!(
                    "{fname}: {v} migrated out; static entry -> VTEP {ip} pushed to its NIC"
                ));
                self.place(i, to, a)?;
                self.vms[i].stack.gratuitous_arp();
                self.note(format!("{v} announces itself (gratuitous ARP)"));
                self.settle(&label)?;
                Ok(None)
            }
            Event::Ping {
                from,
                to,
                count,
                expect,
            } => {
                let (a, b) = (vm(self, from), vm(self, to));
                let dst = self.sc.vms[b].ip;
                let app = self.vms[a].stack.start_ping(dst, *count);
                self.settle(&label)?;
                let status = self.vms[a].stack.status(app);
                let (replies, text) = match &status {
                    AppStatus::Done(r) => (
                        u32::from(r.ping_replies),
                        format!("{} of {count} echoes answered", r.ping_replies),
                    ),
                    AppStatus::Failed(why) => (0, format!("ping failed: {why}")),
                    AppStatus::Running => (0, "ping still running".to_string()),
                };
                Ok(Some(match expect {
                    Expect::Delivered if u32::from(*count) == replies => Ok(text),
                    Expect::Blocked if replies == 0 => Ok(text),
                    _ => Err(text),
                }))
            }
            Event::Tcp {
                from,
                to,
                bytes,
                tso,
                port,
                expect,
            } => {
                let (a, b) = (vm(self, from), vm(self, to));
                let (src_ip, dst) = (self.sc.vms[a].ip, self.sc.vms[b].ip);
                let t0 = self.time_ps;
                let app = self.vms[a].stack.start_tcp(dst, *port, *bytes, *tso);
                self.settle(&label)?;
                let took_ps = self.time_ps - t0;
                let got = self.vms[b]
                    .stack
                    .tcp_received()
                    .into_iter()
                    .filter(|r| r.0 == src_ip && r.2 == *port)
                    .map(|r| (r.3, r.4, r.5))
                    .next_back();
                let status = self.vms[a].stack.status(app);
                let done = matches!(status, AppStatus::Done(_));
                let (rcvd, verified, closed) = got.unwrap_or((0, false, false));
                let mut text = format!(
                    "{rcvd} of {bytes} bytes received in order{}{}, {} wire frames",
                    if verified { ", content verified" } else { "" },
                    if closed { ", closed" } else { "" },
                    self.event_wire
                );
                if let AppStatus::Done(r) = &status {
                    text.push_str(&format!(
                        ", {} sends{} (largest {} bytes), {} retransmission timeouts",
                        r.tcp_sends,
                        if *tso { " with TSO" } else { "" },
                        r.tcp_largest_send,
                        r.retransmissions
                    ));
                }
                if let AppStatus::Failed(why) = &status {
                    text.push_str(&format!(", sender failed: {why}"));
                }
                if self.clocked && took_ps > 0 && rcvd > 0 {
                    text.push_str(&format!(
                        ", {:.2} Gbit/s goodput over {:.1} us (handshake included)",
                        rcvd as f64 * 8.0 / (took_ps as f64 / 1000.0),
                        took_ps as f64 / 1e6
                    ));
                }
                let all = done && rcvd == *bytes && verified && closed;
                Ok(Some(match expect {
                    Expect::Delivered if all => Ok(text),
                    Expect::Blocked if rcvd == 0 => Ok(text),
                    _ => Err(text),
                }))
            }
            Event::Udp {
                from,
                to,
                bytes,
                datagram,
                port,
                expect,
            } => {
                let (a, b) = (vm(self, from), vm(self, to));
                let before = self.vms[b].stack.stats();
                let dst = self.sc.vms[b].ip;
                self.vms[a].stack.start_udp(dst, *port, *bytes, *datagram);
                self.settle(&label)?;
                let after = self.vms[b].stack.stats();
                let got = after.udp_bytes_received - before.udp_bytes_received;
                let dgrams = after.udp_datagrams_received - before.udp_datagrams_received;
                let text = format!("{got} of {bytes} bytes received in {dgrams} datagrams");
                Ok(Some(match expect {
                    Expect::Delivered if got as usize == *bytes => Ok(text),
                    Expect::Blocked if got == 0 => Ok(text),
                    _ => Err(text),
                }))
            }
            Event::Probe { from, to, expect } => {
                let (a, b) = (vm(self, from), vm(self, to));
                let mut frame = Vec::with_capacity(64);
                frame.extend_from_slice(&self.sc.vms[b].mac.0);
                frame.extend_from_slice(&self.sc.vms[a].mac.0);
                frame.extend_from_slice(&[0x88, 0xb5]); // local experimental EtherType
                frame.extend_from_slice(PROBE_MAGIC);
                frame.extend_from_slice(&(n as u32).to_be_bytes());
                frame.resize(64, 0);
                self.vms[a].stack.send_raw(frame);
                self.settle(&label)?;
                let reached = self.probes_seen.contains(&(n as u32, b));
                let text = if reached {
                    format!("the frame reached {to}")
                } else {
                    format!("the frame never reached {to}")
                };
                Ok(Some(match (expect, reached) {
                    (Expect::Delivered, true) | (Expect::Blocked, false) => Ok(text),
                    _ => Err(text),
                }))
            }
            Event::Table { host, vm: v, at } => {
                let h = self.sc.host(host).expect("validated");
                let i = vm(self, v);
                let spec = &self.sc.vms[i];
                let vni = self.sc.tenants[spec.tenant].vni;
                let mac = spec.mac;
                let found = self.hosts[h]
                    .vtep
                    .driver()
                    .find_entry(vni, mac)
                    .map_err(|e| self.host_err(h, e))?;
                let want = (at != "none")
                    .then(|| self.sc.hosts[self.sc.host(at).expect("validated")].vtep_ip);
                let text = match found {
                    Some(e) => format!(
                        "{host}'s NIC maps (VNI {vni}, {mac}) to VTEP {} ({})",
                        e.vtep_ip,
                        self.host_of_vtep(e.vtep_ip)
                    ),
                    None => format!("{host}'s NIC has no entry for (VNI {vni}, {mac})"),
                };
                Ok(Some(if found.map(|e| e.vtep_ip) == want {
                    Ok(text)
                } else {
                    Err(text)
                }))
            }
        }
    }

    /// Steps the world until the network is quiet and no application waits
    /// (retransmission timeouts elapse meanwhile).
    fn settle(&mut self, label: &str) -> Result<(), WorldError> {
        let mut steps = 0;
        loop {
            while self.step()? {
                steps += 1;
                if steps > MAX_STEPS {
                    return Err(WorldError::Stuck(label.to_string()));
                }
                if steps % 256 == 0 {
                    if let Some(b) = &self.echo {
                        b.set_message(format!(
                            "{label}: {:.1} us of network time, {} wire frames",
                            self.time_ps as f64 / 1e6,
                            self.wire_frames
                        ));
                    }
                }
            }
            // Quiet: the events raised without a delivery (TX misses).
            for h in 0..self.hosts.len() {
                self.poll(h)?;
            }
            let waiting: Vec<usize> = (0..self.vms.len())
                .filter(|i| self.vms[*i].stack.apps_running())
                .collect();
            if waiting.is_empty() || self.event_timeouts >= MAX_TIMEOUTS {
                return Ok(());
            }
            self.event_timeouts += 1;
            self.time_ps += TIMEOUT_NS * 1000;
            let names: Vec<String> = waiting
                .iter()
                .map(|i| self.sc.vms[*i].name.clone())
                .collect();
            self.note(format!(
                "quiet, {} waiting: retransmission timeout ({} ms)",
                names.join(", "),
                TIMEOUT_NS / 1_000_000
            ));
            for v in &mut self.vms {
                v.stack.timeout();
            }
        }
    }

    /// One step: the VMs' frames to their NICs, every busy NIC clocked
    /// [`QUANTUM`] cycles (in parallel), their output across the underlay
    /// and up to the VMs. False when nothing moved.
    fn step(&mut self) -> Result<bool, WorldError> {
        let mut moved = false;
        let mut to_vms: Vec<ToVm> = Vec::new();
        for h in 0..self.hosts.len() {
            let mut batch: Vec<HostFrame> = Vec::new();
            for i in 0..self.vms.len() {
                let Some((vh, a)) = self.vms[i].at else {
                    continue;
                };
                if vh != h {
                    continue;
                }
                for out in self.vms[i].stack.take_outbox() {
                    moved = true;
                    self.host_frame(h, i, a, out, &mut batch, &mut to_vms)?;
                }
            }
            if !batch.is_empty() {
                self.device(h)
                    .push_host(&batch)
                    .map_err(|e| self.host_err(h, e))?;
            }
        }
        let mut busy = Vec::new();
        for h in 0..self.hosts.len() {
            if !self.device(h).idle() {
                busy.push(h);
            }
        }
        if busy.is_empty() && !moved {
            return Ok(false);
        }
        let start_ps = self.time_ps;
        let mut outputs = Vec::new();
        if !busy.is_empty() {
            let starts: Vec<u64> = busy.iter().map(|h| self.device(*h).cycles()).collect();
            let results = self.step_devices(&busy);
            for ((h, r), c0) in busy.iter().zip(results).zip(starts) {
                outputs.push((*h, r.map_err(|e| self.host_err(*h, e))?, c0));
            }
            self.time_ps += QUANTUM * CYCLE_PS;
        }
        let mut arrivals: Vec<Vec<Vec<u8>>> = vec![Vec::new(); self.hosts.len()];
        // The step's wire frames in time order (their last beats), for the
        // pcap; the model's have no clock and keep their order.
        let mut wire: Vec<(u64, usize, Vec<u8>)> = Vec::new();
        for (h, out, c0) in &mut outputs {
            for w in std::mem::take(&mut out.wire) {
                let at = start_ps + (w.last_cycle.saturating_sub(*c0) + 1) * CYCLE_PS;
                wire.push((at, *h, w.data));
            }
        }
        wire.sort_by_key(|(at, _, _)| *at);
        for (at, h, data) in wire {
            self.wire_out(at, &data)?;
            let copies = self.underlay.forward(h, &data);
            if let Some(text) = self.describe_flood(h, &data, &copies) {
                self.note(text);
            }
            for (to, copy) in copies {
                arrivals[to].push(copy);
            }
        }
        for (h, out, _) in outputs {
            if out.delivered.is_empty() {
                continue;
            }
            if out.delivered.iter().any(|d| d.meta.learn) {
                self.poll(h)?;
                let replays = self.hosts[h]
                    .vtep
                    .arp_proxy_replays(&out.delivered)
                    .map_err(|e| self.host_err(h, e))?;
                for r in &replays {
                    let inner = &r[50..];
                    let text = format!(
                        "{}: ARP reply from {} replayed to {} through the NIC (FIG. 15 proxy)",
                        self.hosts[h].name,
                        self.vm_name_of(mac_at(inner, 6)),
                        self.vm_name_of(mac_at(inner, 0)),
                    );
                    self.note(text);
                }
                arrivals[h].extend(replays);
            }
            for d in out.delivered {
                self.dispatch(h, d, &mut to_vms);
            }
        }
        for (h, frames) in arrivals.into_iter().enumerate() {
            if !frames.is_empty() {
                self.device(h)
                    .push_wire(&frames)
                    .map_err(|e| self.host_err(h, e))?;
            }
        }
        for t in to_vms {
            self.deliver_to_vm(t);
        }
        // A NIC that was clocked may still hold frames.
        Ok(true)
    }

    fn device(&mut self, h: usize) -> &mut Backend {
        self.hosts[h].vtep.driver().device()
    }

    /// Clocks the NICs of `busy` hosts one quantum each, on as many threads.
    fn step_devices(&mut self, busy: &[usize]) -> Vec<Result<StepOutput, DeviceError>> {
        if busy.len() == 1 {
            return vec![self.device(busy[0]).step(QUANTUM)];
        }
        let devices: Vec<&mut Backend> = self
            .hosts
            .iter_mut()
            .enumerate()
            .filter(|(h, _)| busy.contains(h))
            .map(|(_, host)| host.vtep.driver().device())
            .collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = devices
                .into_iter()
                .map(|d| s.spawn(move || d.step(QUANTUM)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(DeviceError::Simulation(
                            "a NIC simulation thread panicked".into(),
                        ))
                    })
                })
                .collect()
        })
    }

    /// One frame VM `i` sends at host `h` through function `a`.
    fn host_frame(
        &mut self,
        h: usize,
        i: usize,
        a: Function,
        out: Outgoing,
        batch: &mut Vec<HostFrame>,
        local: &mut Vec<ToVm>,
    ) -> Result<(), WorldError> {
        if let Function::Vf(_) = a {
            let mut f = HostFrame::new(a, out.data);
            f.offload = out.offload;
            batch.push(f);
            return Ok(());
        }
        // The hypervisor's switch: PF VMs of the same tenant on this host are
        // reached directly; everything else goes to the NIC tagged.
        let tenant = self.sc.vms[i].tenant;
        let Some(dst) = out
            .data
            .get(..6)
            .map(|d| MacAddr(d.try_into().expect("6 bytes")))
        else {
            return Ok(());
        };
        let flood = dst.0[0] & 1 != 0;
        let mut reached_local = false;
        for (j, v) in self.vms.iter().enumerate() {
            if j != i
                && v.at == Some((h, Function::Pf))
                && self.sc.vms[j].tenant == tenant
                && (flood || self.sc.vms[j].mac == dst)
            {
                local.push(ToVm {
                    vm: j,
                    frame: segment_locally(&out),
                    vni: None,
                });
                reached_local = true;
            }
        }
        if reached_local && !flood {
            return Ok(());
        }
        let vni = self.sc.tenants[tenant].vni;
        let frames = self.hosts[h]
            .vtep
            .pf_host_frames(vni, &out.data, &out.offload)
            .map_err(|e| self.host_err(h, e))?;
        batch.extend(frames);
        Ok(())
    }

    /// A line for a frame host `h`'s NIC sent to a multicast group (the
    /// segment's flooding, where ARP is resolved), none for unicast.
    fn describe_flood(
        &self,
        h: usize,
        frame: &[u8],
        copies: &[(usize, Vec<u8>)],
    ) -> Option<String> {
        let l3 = match frame.get(12..14)? {
            [0x81, 0x00] => 18,
            _ => 14,
        };
        // Outer IPv4 (no options: the NIC sends none) and UDP to a VTEP.
        if frame.get(l3 - 2..l3)? != [0x08, 0x00] || *frame.get(l3 + 9)? != 17 {
            return None;
        }
        let group =
            std::net::Ipv4Addr::from(<[u8; 4]>::try_from(frame.get(l3 + 16..l3 + 20)?).ok()?);
        if !group.is_multicast() {
            return None;
        }
        let vxlan = l3 + 28;
        let v = frame.get(vxlan + 4..vxlan + 7)?;
        let vni = u32::from_be_bytes([0, v[0], v[1], v[2]]);
        let inner = frame.get(vxlan + 8..).filter(|i| i.len() >= 14)?;
        let from = self.vm_name_of(mac_at(inner, 6));
        let what = match inner.get(12..14) {
            Some([0x08, 0x06]) if inner.len() >= 42 => {
                let ip = |at: usize| {
                    std::net::Ipv4Addr::from(
                        <[u8; 4]>::try_from(&inner[at..at + 4]).expect("4 bytes"),
                    )
                };
                match (inner[21], ip(28) == ip(38)) {
                    (_, true) => format!("gratuitous ARP: {} is at {from}", ip(28)),
                    (1, false) => format!("ARP who-has {} from {from}", ip(38)),
                    _ => format!("ARP from {from}"),
                }
            }
            _ => format!("frame from {from} to {}", self.vm_name_of(mac_at(inner, 0))),
        };
        let to: Vec<&str> = copies
            .iter()
            .map(|(c, _)| self.hosts[*c].name.as_str())
            .collect();
        Some(format!(
            "{}: {what}, flooded in VNI {vni} to group {group}: {}",
            self.hosts[h].name,
            if to.is_empty() {
                "no other member".to_string()
            } else {
                format!("reaches {}", to.join(", "))
            }
        ))
    }

    /// Counts a frame a NIC put on the wire (its last beat at `at_ps`) and
    /// writes it to the pcap.
    fn wire_out(&mut self, at_ps: u64, f: &[u8]) -> Result<(), WorldError> {
        self.wire_frames += 1;
        self.event_wire += 1;
        if let Some(p) = &mut self.pcap {
            p.write(Duration::from_nanos(at_ps / 1000), f)
                .map_err(|e| WorldError::Output(e.to_string()))?;
        }
        Ok(())
    }

    /// Drains host `h`'s NIC events through the VTEP software (which learns
    /// from them) and puts them on the timeline.
    fn poll(&mut self, h: usize) -> Result<(), WorldError> {
        let events = self.hosts[h].vtep.poll().map_err(|e| self.host_err(h, e))?;
        let name = self.hosts[h].name.clone();
        for e in events {
            let text = match e {
                NicEvent::Learn {
                    vni, mac, vtep_ip, ..
                } => {
                    self.hosts[h].learn_events += 1;
                    let kept = self.hosts[h]
                        .vtep
                        .entry(vni, mac)
                        .is_some_and(|m| m.entry.vtep_ip == vtep_ip);
                    format!(
                        "{name}: learn event: {} (VNI {vni}) is behind VTEP {} ({}){}",
                        self.vm_name_of(mac),
                        vtep_ip,
                        self.host_of_vtep(vtep_ip),
                        if kept {
                            "; entry pushed to the NIC"
                        } else {
                            "; ignored"
                        }
                    )
                }
                NicEvent::TxMiss { vni, mac } => {
                    self.hosts[h].miss_events += 1;
                    format!(
                        "{name}: TX miss: {} (VNI {vni}) not in the table, flooded to the segment's group",
                        self.vm_name_of(mac)
                    )
                }
            };
            self.note(text);
        }
        Ok(())
    }

    /// Routes one delivery at host `h` to the VM(s) it is for.
    fn dispatch(&mut self, h: usize, d: RxDelivery, to_vms: &mut Vec<ToVm>) {
        let vni = d.meta.decapsulated.then_some(d.meta.vni);
        match d.function {
            Function::Vf(_) => {
                if let Some(i) = self.vms.iter().position(|v| v.at == Some((h, d.function))) {
                    to_vms.push(ToVm {
                        vm: i,
                        frame: d.frame,
                        vni,
                    });
                }
            }
            Function::Pf => {
                // The hypervisor's switch: to the PF VMs of the frame's VNI.
                let (Some(vni), true) = (vni, d.frame.len() >= 14) else {
                    return;
                };
                let dst = mac_at(&d.frame, 0);
                let flood = dst.0[0] & 1 != 0;
                if d.meta.learn {
                    // FIG. 14: from an unknown sender, the PF only. A VF VM
                    // it was for sees it only when its sender retries.
                    let missed: Vec<String> = self
                        .vms
                        .iter()
                        .enumerate()
                        .filter(|(j, v)| {
                            matches!(v.at, Some((vh, Function::Vf(_))) if vh == h)
                                && self.sc.tenants[self.sc.vms[*j].tenant].vni.get() == vni
                                && (flood || self.sc.vms[*j].mac == dst)
                        })
                        .map(|(j, _)| self.sc.vms[j].name.clone())
                        .collect();
                    if !missed.is_empty() && !is_arp_reply(&d.frame) {
                        let text = format!(
                            "{}: {} is not known here yet: its frame reached the PF only, not {} on a VF (FIG. 14)",
                            self.hosts[h].name,
                            self.vm_name_of(mac_at(&d.frame, 6)),
                            missed.join(", ")
                        );
                        self.note(text);
                    }
                }
                for (j, v) in self.vms.iter().enumerate() {
                    let spec = &self.sc.vms[j];
                    if v.at == Some((h, Function::Pf))
                        && self.sc.tenants[spec.tenant].vni.get() == vni
                        && (flood || spec.mac == dst)
                    {
                        to_vms.push(ToVm {
                            vm: j,
                            frame: d.frame.clone(),
                            vni: Some(vni),
                        });
                    }
                }
            }
        }
    }

    /// Hands a frame to VM `t.vm`, checking isolation first.
    fn deliver_to_vm(&mut self, t: ToVm) {
        self.frames_to_vms += 1;
        if let Some(v) = isolation_violation(&self.sc, t.vm, &t.frame, t.vni) {
            self.violations.push(v);
        }
        if let Some(at) = find(&t.frame, PROBE_MAGIC) {
            if let Some(n) = t
                .frame
                .get(at + PROBE_MAGIC.len()..at + PROBE_MAGIC.len() + 4)
            {
                let n = u32::from_be_bytes(n.try_into().expect("4 bytes"));
                self.probes_seen.push((n, t.vm));
            }
        }
        self.vms[t.vm].stack.receive(&t.frame);
    }

    fn summaries(&mut self) -> Result<Vec<NicSummary>, WorldError> {
        let mut out = Vec::new();
        for h in 0..self.hosts.len() {
            let cycles = self.hosts[h].vtep.driver().device().cycles();
            let (name, learn, miss) = (
                self.hosts[h].name.clone(),
                self.hosts[h].learn_events,
                self.hosts[h].miss_events,
            );
            let s = report::read_nic(&name, self.hosts[h].vtep.driver(), learn, miss, cycles)
                .map_err(|e| self.host_err(h, e))?;
            out.push(s);
        }
        Ok(out)
    }
}

/// A frame the hypervisor's switch delivers between two PF VMs on one host:
/// the frame with the checksums it asked for filled in, unsegmented (a
/// virtual switch hands a TSO send over whole, as Linux's veth does).
fn segment_locally(out: &Outgoing) -> Vec<u8> {
    let req = overlay_nic_driver::offload::OffloadRequest {
        tso: false,
        mss: 0,
        ..out.offload
    };
    overlay_nic_driver::offload::apply(&out.data, &req)
        .ok()
        .and_then(|mut v| v.pop())
        .unwrap_or_else(|| out.data.clone())
}

/// Whether VM `to` receiving `frame` (which arrived on VNI `vni`, `None`
/// when the hypervisor's switch delivered it) breaks isolation: it came
/// on another tenant's VNI, or its source is not a VM of `to`'s tenant.
pub fn isolation_violation(
    sc: &Scenario,
    to: usize,
    frame: &[u8],
    vni: Option<u32>,
) -> Option<Violation> {
    let me = &sc.vms[to];
    let my_vni = sc.tenants[me.tenant].vni.get();
    let src = frame
        .get(6..12)
        .map(|s| MacAddr(s.try_into().expect("6 bytes")));
    let sender = src.and_then(|s| sc.vms.iter().find(|v| v.mac == s));
    let wrong_vni = vni.is_some_and(|v| v != my_vni);
    let wrong_sender = sender.is_none_or(|s| s.tenant != me.tenant);
    (wrong_vni || wrong_sender).then(|| Violation {
        to_vm: me.name.clone(),
        from: sender.map_or_else(
            || src.map_or("a runt".into(), |s| s.to_string()),
            |s| format!("{} ({})", s.name, sc.tenants[s.tenant].name),
        ),
        vni: vni.unwrap_or(my_vni),
    })
}

/// The MAC at `at` in `frame` (callers checked the length).
fn mac_at(frame: &[u8], at: usize) -> MacAddr {
    MacAddr(frame[at..at + 6].try_into().expect("6 bytes"))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_from(sc: &Scenario, vm: &str) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&sc.vms[sc.vm(vm).unwrap()].mac.0);
        f.extend_from_slice(&[0x88, 0xb5]);
        f.resize(60, 0);
        f
    }

    /// The check the demo's isolation claim rests on flags each way a frame
    /// can cross tenants, and nothing else.
    #[test]
    fn isolation_check_flags_frames_from_other_tenants() {
        let sc = Scenario::from_toml(DEMO_SCENARIO).unwrap();
        let blue_db = sc.vm("blue-db").unwrap();
        let from_blue = frame_from(&sc, "blue-web");
        let from_red = frame_from(&sc, "red-web");
        assert_eq!(
            isolation_violation(&sc, blue_db, &from_blue, Some(5001)),
            None
        );
        assert_eq!(isolation_violation(&sc, blue_db, &from_blue, None), None);
        let v = isolation_violation(&sc, blue_db, &from_red, Some(5001)).unwrap();
        assert_eq!(
            (v.to_vm.as_str(), v.from.as_str()),
            ("blue-db", "red-web (red)")
        );
        // Right sender, wrong segment.
        assert!(isolation_violation(&sc, blue_db, &from_blue, Some(5002)).is_some());
        // Locally switched from another tenant.
        assert!(isolation_violation(&sc, blue_db, &from_red, None).is_some());
        // A source that is no VM at all.
        let mut stranger = from_blue.clone();
        stranger[6..12].copy_from_slice(&[2, 9, 9, 9, 9, 9]);
        assert!(isolation_violation(&sc, blue_db, &stranger, Some(5001)).is_some());
        assert!(isolation_violation(&sc, blue_db, &[1, 2, 3], Some(5001)).is_some());
    }
}
