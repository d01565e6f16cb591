//! The scenario format: a world (underlay subnets, hosts, tenants, VMs) and
//! a timeline of events with the expectations the run checks. TOML; the
//! README's "Scenarios" section documents it and `examples/demo.toml` is the
//! demo's scenario, commented.
//!
//! [`Scenario::from_toml`] parses and validates: every name resolves, every
//! address is unique where it must be, and each VM fits its host's NIC, so
//! that a run never starts on an inconsistent world. Errors name the table
//! and the key.

use overlay_nic_driver::nic_config::{MacAddr, MissPolicy};
use overlay_nic_driver::tx::Function;
use overlay_nic_driver::vxlan::Vni;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Why a scenario was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// Not TOML, or a key of the wrong type or unknown.
    #[error("scenario: {0}")]
    Parse(String),
    /// Parsed, but inconsistent.
    #[error("scenario: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid(msg.into())
}

/// An IPv4 prefix, `a.b.c.d/len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub network: Ipv4Addr,
    pub len: u8,
}

impl Prefix {
    /// The netmask (`/24` is 255.255.255.0).
    pub fn netmask(&self) -> Ipv4Addr {
        let bits = if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        };
        Ipv4Addr::from(bits)
    }

    /// Whether `ip` is in the prefix.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask());
        u32::from(ip) & m == u32::from(self.network) & m
    }
}

impl FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Prefix, String> {
        let (ip, len) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a prefix (a.b.c.d/len)"))?;
        let network: Ipv4Addr = ip.parse().map_err(|_| format!("`{ip}` is not IPv4"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("`{len}` is not a prefix length (0-32)"))?;
        Ok(Prefix { network, len })
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// Which NIC implementation a host's device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The cycle-accurate HDL simulation.
    #[default]
    Hdl,
    /// The behavioural model (`NicModel`): same registers, no clock.
    Model,
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<BackendKind, String> {
        match s {
            "hdl" => Ok(BackendKind::Hdl),
            "model" => Ok(BackendKind::Model),
            _ => Err(format!("`{s}` is not a back end (hdl or model)")),
        }
    }
}

/// One underlay subnet with the router's interface on it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub name: String,
    /// The subnet, `a.b.c.d/len`.
    pub prefix: String,
    /// The router's MAC on this subnet: the hosts' gateway MAC.
    pub router_mac: String,
}

/// A hypervisor host with its NIC's VTEP.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub name: String,
    /// The underlay subnet its uplink is on.
    pub subnet: String,
    pub vtep_ip: Ipv4Addr,
    pub vtep_mac: String,
}

/// A tenant: one overlay segment.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub name: String,
    pub vni: u32,
    /// Where the segment's broadcast and flooded frames go.
    pub multicast_group: Ipv4Addr,
    /// The NICs' miss policy for the segment: flood (default), gateway, drop.
    #[serde(default)]
    pub miss_policy: Option<String>,
}

/// A VM: where it runs and its addresses.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    pub name: String,
    pub tenant: String,
    pub host: String,
    /// `pf` (through the hypervisor's switch, tagged) or `vf0`, `vf1`, ...
    /// (SR-IOV pass-through).
    pub attach: String,
    pub mac: String,
    pub ip: Ipv4Addr,
    /// Its IP MTU (default 1500).
    #[serde(default)]
    pub mtu: Option<u16>,
    /// Powered on at the start (default true); else a `join` event starts it.
    #[serde(default)]
    pub running: Option<bool>,
}

/// What a traffic event should see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Everything arrives (every echo answered, every byte delivered).
    #[default]
    Delivered,
    /// Nothing arrives (isolation, a VM that left).
    Blocked,
}

/// One event of the timeline, run in order, each once the network is quiet
/// after the one before.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "do", rename_all = "lowercase", deny_unknown_fields)]
pub enum Event {
    /// A VM powers on (on its own host and function, or those given).
    Join {
        vm: String,
        host: Option<String>,
        attach: Option<String>,
    },
    /// A VM powers off.
    Leave { vm: String },
    /// A VM moves to another host (and function): the source host's table
    /// points at the new VTEP, the VM announces itself (gratuitous ARP).
    Migrate {
        vm: String,
        host: String,
        attach: String,
    },
    /// `count` ICMP echoes from `from` to `to` (a VM name; its IP is used).
    Ping {
        from: String,
        to: String,
        #[serde(default = "default_count")]
        count: u16,
        #[serde(default)]
        expect: Expect,
    },
    /// A TCP transfer of `bytes`, with TSO unless `tso = false`.
    Tcp {
        from: String,
        to: String,
        bytes: usize,
        #[serde(default = "default_true")]
        tso: bool,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default)]
        expect: Expect,
    },
    /// A UDP stream of `bytes` in datagrams of `datagram` bytes.
    Udp {
        from: String,
        to: String,
        bytes: usize,
        #[serde(default = "default_datagram")]
        datagram: usize,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default)]
        expect: Expect,
    },
    /// `from` sends a frame straight to `to`'s MAC (e.g. across tenants):
    /// `expect = "blocked"` checks it never reaches `to`.
    Probe {
        from: String,
        to: String,
        #[serde(default)]
        expect: Expect,
    },
    /// Checks `host`'s NIC table (read back over its registers): `vm`'s
    /// entry points at host `at`'s VTEP, or is absent (`at = "none"`).
    Table {
        host: String,
        vm: String,
        at: String,
    },
}

fn default_count() -> u16 {
    3
}
fn default_true() -> bool {
    true
}
fn default_port() -> u16 {
    5001
}
fn default_datagram() -> usize {
    1000
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    title: Option<String>,
    subnet: Vec<Subnet>,
    host: Vec<Host>,
    tenant: Vec<Tenant>,
    vm: Vec<Vm>,
    #[serde(default)]
    timeline: Vec<Event>,
}

/// A resolved subnet.
#[derive(Clone, Debug)]
pub struct SubnetSpec {
    pub name: String,
    pub prefix: Prefix,
    pub router_mac: MacAddr,
}

/// A resolved host.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    pub subnet: usize,
    pub vtep_ip: Ipv4Addr,
    pub vtep_mac: MacAddr,
}

/// A resolved tenant.
#[derive(Clone, Debug)]
pub struct TenantSpec {
    pub name: String,
    pub vni: Vni,
    pub multicast_group: Ipv4Addr,
    pub miss_policy: MissPolicy,
}

/// A resolved VM.
#[derive(Clone, Debug)]
pub struct VmSpec {
    pub name: String,
    pub tenant: usize,
    pub host: usize,
    pub attach: Function,
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub mtu: u16,
    pub running: bool,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub title: String,
    pub subnets: Vec<SubnetSpec>,
    pub hosts: Vec<HostSpec>,
    pub tenants: Vec<TenantSpec>,
    pub vms: Vec<VmSpec>,
    pub timeline: Vec<Event>,
}

/// The PF's MTU (the NIC's reset value, which the VTEP software keeps): a
/// PF VM's IP MTU is at most this.
pub const PF_MTU: u16 = 1500;

/// A VF VM's largest IP MTU: the uplink's (LFE) 1600 less VXLAN's 50
/// bytes, as the PF driver checks.
pub const VF_MTU_MAX: u16 = 1550;

/// The VFs of the NIC build every host has (the default build).
pub const VFS_PER_NIC: usize = overlay_nic_regmap::Build::DEFAULT.vfs;

/// Parses `pf`, `vf0`, `vf1`, ...
pub fn parse_attach(s: &str) -> Result<Function, String> {
    if s == "pf" {
        return Ok(Function::Pf);
    }
    s.strip_prefix("vf")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|i| *i < VFS_PER_NIC)
        .map(Function::Vf)
        .ok_or_else(|| format!("`{s}` is not a function (pf or vf0..vf{})", VFS_PER_NIC - 1))
}

fn parse_mac(what: &str, s: &str) -> Result<MacAddr, ScenarioError> {
    let mac = MacAddr::from_str(s).map_err(|e| invalid(format!("{what}: {e}")))?;
    if mac.0[0] & 1 != 0 {
        return Err(invalid(format!("{what}: {mac} is a multicast MAC")));
    }
    Ok(mac)
}

impl Scenario {
    /// Parses and validates a scenario.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        let mut names = BTreeSet::new();
        let mut unique_name = |kind: &str, n: &str| {
            if n.is_empty() || !names.insert(n.to_string()) {
                Err(invalid(format!("{kind} name `{n}` is empty or used twice")))
            } else {
                Ok(())
            }
        };
        let mut subnets = Vec::new();
        for s in &raw.subnet {
            unique_name("subnet", &s.name)?;
            let prefix = Prefix::from_str(&s.prefix)
                .map_err(|e| invalid(format!("subnet `{}`: {e}", s.name)))?;
            let router_mac = parse_mac(&format!("subnet `{}` router_mac", s.name), &s.router_mac)?;
            subnets.push(SubnetSpec {
                name: s.name.clone(),
                prefix,
                router_mac,
            });
        }
        for (i, a) in subnets.iter().enumerate() {
            for b in &subnets[i + 1..] {
                if a.prefix.contains(b.prefix.network) || b.prefix.contains(a.prefix.network) {
                    return Err(invalid(format!(
                        "subnets `{}` and `{}` overlap",
                        a.name, b.name
                    )));
                }
            }
        }
        let subnet_of = |n: &str, who: &str| {
            subnets
                .iter()
                .position(|s| s.name == n)
                .ok_or_else(|| invalid(format!("{who}: no subnet `{n}`")))
        };
        let mut hosts: Vec<HostSpec> = Vec::new();
        for h in &raw.host {
            unique_name("host", &h.name)?;
            let who = format!("host `{}`", h.name);
            let subnet = subnet_of(&h.subnet, &who)?;
            if !subnets[subnet].prefix.contains(h.vtep_ip) {
                return Err(invalid(format!(
                    "{who}: vtep_ip {} is not in subnet `{}` ({})",
                    h.vtep_ip, h.subnet, subnets[subnet].prefix
                )));
            }
            let vtep_mac = parse_mac(&format!("{who} vtep_mac"), &h.vtep_mac)?;
            if hosts
                .iter()
                .any(|o| o.vtep_ip == h.vtep_ip || o.vtep_mac == vtep_mac)
            {
                return Err(invalid(format!("{who}: VTEP IP or MAC used twice")));
            }
            hosts.push(HostSpec {
                name: h.name.clone(),
                subnet,
                vtep_ip: h.vtep_ip,
                vtep_mac,
            });
        }
        if hosts.is_empty() {
            return Err(invalid("no [[host]]"));
        }
        let mut tenants: Vec<TenantSpec> = Vec::new();
        for t in &raw.tenant {
            unique_name("tenant", &t.name)?;
            let who = format!("tenant `{}`", t.name);
            let vni = Vni::new(t.vni).map_err(|e| invalid(format!("{who}: {e}")))?;
            if !t.multicast_group.is_multicast() {
                return Err(invalid(format!(
                    "{who}: multicast_group {} is not an IPv4 multicast address",
                    t.multicast_group
                )));
            }
            let miss_policy = match &t.miss_policy {
                None => MissPolicy::Flood,
                Some(p) => MissPolicy::from_str(p).map_err(|e| invalid(format!("{who}: {e}")))?,
            };
            if miss_policy == MissPolicy::Gateway {
                return Err(invalid(format!(
                    "{who}: the gateway miss policy needs a gateway VTEP, which scenarios do not have yet"
                )));
            }
            if tenants.iter().any(|o| o.vni == vni) {
                return Err(invalid(format!("{who}: VNI {vni} used twice")));
            }
            tenants.push(TenantSpec {
                name: t.name.clone(),
                vni,
                multicast_group: t.multicast_group,
                miss_policy,
            });
        }
        let host_of = |n: &str, who: &str| {
            hosts
                .iter()
                .position(|h| h.name == n)
                .ok_or_else(|| invalid(format!("{who}: no host `{n}`")))
        };
        let mut vms: Vec<VmSpec> = Vec::new();
        for v in &raw.vm {
            unique_name("vm", &v.name)?;
            let who = format!("vm `{}`", v.name);
            let tenant = tenants
                .iter()
                .position(|t| t.name == v.tenant)
                .ok_or_else(|| invalid(format!("{who}: no tenant `{}`", v.tenant)))?;
            let host = host_of(&v.host, &who)?;
            let attach = parse_attach(&v.attach).map_err(|e| invalid(format!("{who}: {e}")))?;
            let mac = parse_mac(&format!("{who} mac"), &v.mac)?;
            let mtu = v.mtu.unwrap_or(1500);
            if mtu < 68 {
                return Err(invalid(format!("{who}: mtu {mtu} is below IPv4's 68")));
            }
            if vms.iter().any(|o| o.mac == mac) {
                return Err(invalid(format!("{who}: MAC {mac} used twice")));
            }
            if vms.iter().any(|o| o.tenant == tenant && o.ip == v.ip) {
                return Err(invalid(format!(
                    "{who}: IP {} used twice in tenant `{}`",
                    v.ip, v.tenant
                )));
            }
            vms.push(VmSpec {
                name: v.name.clone(),
                tenant,
                host,
                attach,
                mac,
                ip: v.ip,
                mtu,
                running: v.running.unwrap_or(true),
            });
        }
        let scenario = Scenario {
            title: raw.title.unwrap_or_else(|| "scenario".into()),
            subnets,
            hosts,
            tenants,
            vms,
            timeline: raw.timeline,
        };
        scenario.check_placement()?;
        scenario.check_timeline()?;
        Ok(scenario)
    }

    /// The VM called `name`.
    pub fn vm(&self, name: &str) -> Option<usize> {
        self.vms.iter().position(|v| v.name == name)
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// No two running VMs on one VF at any point of the timeline.
    fn check_placement(&self) -> Result<(), ScenarioError> {
        let mut on: BTreeMap<(usize, Function), usize> = BTreeMap::new();
        let mut place: Vec<Option<(usize, Function)>> = self
            .vms
            .iter()
            .map(|v| v.running.then_some((v.host, v.attach)))
            .collect();
        let claim = |on: &mut BTreeMap<_, _>, vm: usize, at: (usize, Function), when: &str| {
            let (most, why) = match at.1 {
                Function::Pf => (PF_MTU, "the PF's MTU"),
                Function::Vf(_) => (VF_MTU_MAX, "the uplink's 1600 less VXLAN's 50 bytes"),
            };
            if self.vms[vm].mtu > most {
                return Err(invalid(format!(
                    "{when}: vm `{}` has mtu {} on {}; at most {most} there ({why})",
                    self.vms[vm].name, self.vms[vm].mtu, at.1
                )));
            }
            if at.1 == Function::Pf {
                return Ok(());
            }
            match on.insert(at, vm) {
                Some(other) if other != vm => Err(invalid(format!(
                    "{when}: vm `{}` and vm `{}` on {} of host `{}`",
                    self.vms[other].name, self.vms[vm].name, at.1, self.hosts[at.0].name
                ))),
                _ => Ok(()),
            }
        };
        for (i, p) in place.iter().enumerate() {
            if let Some(at) = p {
                claim(&mut on, i, *at, "at the start")?;
            }
        }
        for (n, e) in self.timeline.iter().enumerate() {
            let when = format!("timeline event {}", n + 1);
            let moved = match e {
                Event::Join { vm, host, attach } => Some((vm, host.clone(), attach.clone(), true)),
                Event::Migrate { vm, host, attach } => {
                    Some((vm, Some(host.clone()), Some(attach.clone()), false))
                }
                _ => None,
            };
            match (e, moved) {
                (_, Some((vm, h, a, joining))) => {
                    let i = self
                        .vm(vm)
                        .ok_or_else(|| invalid(format!("{when}: no vm `{vm}`")))?;
                    let h = match h {
                        Some(h) => self
                            .host(&h)
                            .ok_or_else(|| invalid(format!("{when}: no host `{h}`")))?,
                        None => self.vms[i].host,
                    };
                    let a = match a {
                        Some(a) => parse_attach(&a).map_err(|m| invalid(format!("{when}: {m}")))?,
                        None => self.vms[i].attach,
                    };
                    if joining && place[i].is_some() {
                        return Err(invalid(format!("{when}: vm `{vm}` is already running")));
                    }
                    if !joining && place[i].is_none() {
                        return Err(invalid(format!("{when}: vm `{vm}` is not running")));
                    }
                    if let Some(old) = place[i].take() {
                        if old.0 == h {
                            return Err(invalid(format!(
                                "{when}: vm `{vm}` is already on host `{}`",
                                self.hosts[h].name
                            )));
                        }
                        on.remove(&old);
                    }
                    claim(&mut on, i, (h, a), &when)?;
                    place[i] = Some((h, a));
                }
                (Event::Leave { vm }, None) => {
                    let i = self
                        .vm(vm)
                        .ok_or_else(|| invalid(format!("{when}: no vm `{vm}`")))?;
                    let old = place[i]
                        .take()
                        .ok_or_else(|| invalid(format!("{when}: vm `{vm}` is not running")))?;
                    on.remove(&old);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every name in the timeline resolves.
    fn check_timeline(&self) -> Result<(), ScenarioError> {
        for (n, e) in self.timeline.iter().enumerate() {
            let when = format!("timeline event {}", n + 1);
            let vm = |name: &str| {
                self.vm(name)
                    .ok_or_else(|| invalid(format!("{when}: no vm `{name}`")))
            };
            match e {
                Event::Ping {
                    from, to, count, ..
                } => {
                    vm(from)?;
                    vm(to)?;
                    if *count == 0 {
                        return Err(invalid(format!("{when}: count is 0")));
                    }
                }
                Event::Tcp {
                    from, to, bytes, ..
                }
                | Event::Udp {
                    from, to, bytes, ..
                } => {
                    let (a, b) = (vm(from)?, vm(to)?);
                    if self.vms[a].tenant != self.vms[b].tenant {
                        return Err(invalid(format!(
                            "{when}: `{from}` and `{to}` are in different tenants (use a probe)"
                        )));
                    }
                    if *bytes == 0 || *bytes > 64 << 20 {
                        return Err(invalid(format!("{when}: bytes must be 1 to 64 MiB")));
                    }
                    if let Event::Udp { datagram, .. } = e {
                        if *datagram == 0 || *datagram > 1472 {
                            return Err(invalid(format!("{when}: datagram must be 1 to 1472")));
                        }
                    }
                }
                Event::Probe { from, to, .. } => {
                    vm(from)?;
                    vm(to)?;
                }
                Event::Table { host, vm: v, at } => {
                    vm(v)?;
                    self.host(host)
                        .ok_or_else(|| invalid(format!("{when}: no host `{host}`")))?;
                    if at != "none" && self.host(at).is_none() {
                        return Err(invalid(format!("{when}: no host `{at}` (or \"none\")")));
                    }
                }
                Event::Join { .. } | Event::Leave { .. } | Event::Migrate { .. } => {}
            }
        }
        Ok(())
    }
}

/// A readable one-line description of an event.
pub fn describe(e: &Event) -> String {
    let ex = |x: &Expect| match x {
        Expect::Delivered => "",
        Expect::Blocked => " (expect blocked)",
    };
    match e {
        Event::Join { vm, host, attach } => format!(
            "join {vm}{}{}",
            host.as_ref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default(),
            attach.as_ref().map(|a| format!(" {a}")).unwrap_or_default()
        ),
        Event::Leave { vm } => format!("leave {vm}"),
        Event::Migrate { vm, host, attach } => format!("migrate {vm} to {host} {attach}"),
        Event::Ping {
            from,
            to,
            count,
            expect,
        } => format!("ping {from} -> {to} x{count}{}", ex(expect)),
        Event::Tcp {
            from,
            to,
            bytes,
            tso,
            expect,
            ..
        } => format!(
            "tcp {from} -> {to} {bytes} bytes{}{}",
            if *tso { " (TSO)" } else { "" },
            ex(expect)
        ),
        Event::Udp {
            from,
            to,
            bytes,
            datagram,
            expect,
            ..
        } => format!(
            "udp {from} -> {to} {bytes} bytes in {datagram}-byte datagrams{}",
            ex(expect)
        ),
        Event::Probe { from, to, expect } => {
            format!("probe {from} -> MAC of {to}{}", ex(expect))
        }
        Event::Table { host, vm, at } => format!("check {host}'s NIC table: {vm} at {at}"),
    }
}

#[cfg(test)]
mod tests;
