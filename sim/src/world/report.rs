//! What a run reports: each NIC's counters, read back through its PF BAR
//! as a driver would, and the summary table.

use overlay_nic_driver::device::NicDevice;
use overlay_nic_driver::pf_driver::{DriverError, PfDriver};
use overlay_nic_driver::rx::RxDrop;
use overlay_nic_regmap::pf::{self, function as fr};
use overlay_nic_regmap::Register;
use std::fmt::Write;

/// One NIC's counters at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NicSummary {
    pub host: String,
    /// Frames the host's functions handed the NIC.
    pub tx_host_frames: u64,
    /// Frames sent encapsulated (every TSO segment counts).
    pub encapsulated: u64,
    /// Segments TSO made.
    pub tso_segments: u64,
    /// Mapping-table misses on TX (flooded, or dropped by the policy).
    pub tx_misses: u64,
    /// TX drops by reason (every function's summed), non-zero ones only.
    pub tx_drops: Vec<(&'static str, u64)>,
    /// Frames from the wire.
    pub rx_wire_frames: u64,
    /// Of those, decapsulated.
    pub decapsulated: u64,
    /// Of those, from an unknown or moved source (learn).
    pub rx_learn: u64,
    /// RX drops by reason (with `overflow` and the VFs' inner-checksum
    /// drops), non-zero ones only.
    pub rx_drops: Vec<(&'static str, u64)>,
    /// Copies delivered to the host's functions.
    pub delivered: u64,
    /// Mapping-table entries in use at the end.
    pub table_entries: u64,
    /// Events the VTEP software drained: learn, TX miss.
    pub learn_events: u64,
    pub miss_events: u64,
    /// Events the queue lost (full).
    pub events_lost: u64,
    /// Clock cycles simulated (HDL back end; 0 for the model).
    pub cycles: u64,
}

const TX_DROPS: [(&str, &Register); 8] = [
    ("runt", &fr::TX_DROP_RUNT),
    ("spoofed", &fr::TX_DROP_SPOOFED),
    ("mtu", &fr::TX_DROP_MTU),
    ("no_vni", &fr::TX_DROP_NO_VNI),
    ("miss", &fr::TX_DROP_MISS),
    ("offload_csum", &fr::TX_DROP_OFFLOAD_CSUM),
    ("offload_ip", &fr::TX_DROP_OFFLOAD_IP),
    ("offload_tso", &fr::TX_DROP_OFFLOAD_TSO),
];

/// Reads `pf`'s NIC counters over its PF BAR.
pub fn read_nic<D: NicDevice>(
    host: &str,
    pf: &mut PfDriver<D>,
    learn_events: u64,
    miss_events: u64,
    cycles: u64,
) -> Result<NicSummary, DriverError> {
    let functions = pf.capabilities().vfs + 1;
    let table_entries = pf.entries_in_use()? as u64;
    let mut r = pf.registers()?;
    let mut s = NicSummary {
        host: host.to_string(),
        learn_events,
        miss_events,
        cycles,
        table_entries,
        ..NicSummary::default()
    };
    let mut tx_drops = [0u64; TX_DROPS.len()];
    let mut inner_csum = 0;
    for f in 0..functions {
        let mut read = |x: &Register| -> Result<u64, DriverError> {
            Ok(u64::from(r.read(&pf::function_register(f, x))?))
        };
        s.tx_host_frames += read(&fr::TX_FRAMES)?;
        s.encapsulated += read(&fr::TX_ENCAPSULATED)?;
        s.tso_segments += read(&fr::TX_TSO_SEGMENTS)?;
        s.tx_misses += read(&fr::TX_MISSES)?;
        s.delivered += read(&fr::RX_FRAMES)?;
        inner_csum += read(&fr::RX_DROP_INNER_CHECKSUM)?;
        for (d, (_, reg)) in tx_drops.iter_mut().zip(TX_DROPS) {
            *d += read(reg)?;
        }
    }
    s.tx_drops = TX_DROPS
        .iter()
        .zip(tx_drops)
        .filter(|(_, n)| *n > 0)
        .map(|((name, _), n)| (*name, n))
        .collect();
    s.rx_wire_frames = r.read(&pf::RX_WIRE_FRAMES)?.into();
    s.decapsulated = r.read(&pf::RX_DECAPSULATED)?.into();
    s.rx_learn = r.read(&pf::RX_LEARN)?.into();
    for (reason, reg) in RxDrop::ALL.iter().zip(crate::rx::RX_DROP_REGISTERS) {
        let n = u64::from(r.read(reg)?);
        if n > 0 {
            s.rx_drops.push((reason.name(), n));
        }
    }
    let overflow = u64::from(r.read(&pf::RX_DROP_OVERFLOW)?);
    if overflow > 0 {
        s.rx_drops.push(("overflow", overflow));
    }
    if inner_csum > 0 {
        s.rx_drops.push(("inner_checksum", inner_csum));
    }
    s.events_lost = r.read(&pf::EVENT_LOST)?.into();
    Ok(s)
}

fn drops(d: &[(&str, u64)]) -> String {
    if d.is_empty() {
        return "none".into();
    }
    d.iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The per-NIC summary table, one column per host (Markdown, so that it
/// reads in a terminal and pastes into documents).
pub fn summary_table(nics: &[NicSummary]) -> String {
    let mut rows: Vec<(&str, Vec<String>)> = vec![
        (
            "TX frames from host",
            nics.iter().map(|n| n.tx_host_frames.to_string()).collect(),
        ),
        (
            "  encapsulated to the wire",
            nics.iter().map(|n| n.encapsulated.to_string()).collect(),
        ),
        (
            "  of which TSO segments",
            nics.iter().map(|n| n.tso_segments.to_string()).collect(),
        ),
        (
            "  table misses (flooded)",
            nics.iter().map(|n| n.tx_misses.to_string()).collect(),
        ),
        (
            "  TX drops",
            nics.iter().map(|n| drops(&n.tx_drops)).collect(),
        ),
        (
            "RX frames from wire",
            nics.iter().map(|n| n.rx_wire_frames.to_string()).collect(),
        ),
        (
            "  decapsulated",
            nics.iter().map(|n| n.decapsulated.to_string()).collect(),
        ),
        (
            "  from unknown/moved source",
            nics.iter().map(|n| n.rx_learn.to_string()).collect(),
        ),
        (
            "  RX drops",
            nics.iter().map(|n| drops(&n.rx_drops)).collect(),
        ),
        (
            "  copies delivered to functions",
            nics.iter().map(|n| n.delivered.to_string()).collect(),
        ),
        (
            "table entries at end",
            nics.iter().map(|n| n.table_entries.to_string()).collect(),
        ),
        (
            "events (learn / miss / lost)",
            nics.iter()
                .map(|n| format!("{} / {} / {}", n.learn_events, n.miss_events, n.events_lost))
                .collect(),
        ),
    ];
    if nics.iter().any(|n| n.cycles > 0) {
        rows.push((
            "clock cycles simulated",
            nics.iter().map(|n| n.cycles.to_string()).collect(),
        ));
    }
    let mut widths: Vec<usize> = nics.iter().map(|n| n.host.len()).collect();
    for (_, cells) in &rows {
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.len());
        }
    }
    let first = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0).max(3);
    let mut out = String::new();
    let _ = write!(out, "| {:first$} |", "NIC");
    for (n, w) in nics.iter().zip(&widths) {
        let _ = write!(out, " {:>w$} |", n.host);
    }
    let _ = write!(out, "\n|{}|", "-".repeat(first + 2));
    for w in &widths {
        let _ = write!(out, "{}:|", "-".repeat(w + 1));
    }
    for (label, cells) in &rows {
        let _ = write!(out, "\n| {label:first$} |");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(out, " {c:>w$} |");
        }
    }
    out.push('\n');
    out
}
