//! The NIC: PF + VF host ports, one wire port each way, the register slave
//! (PF BAR0), the mapping table and VNI records, the event queue, and the TX
//! and RX offload paths around them.
//!
//! TX (host to wire): seed FIG. 7 and FIG. 13, specified in
//! `docs/tx-path.md` and drawn below. RX (wire to hosts): the `rx` child,
//! `RxPath` (seed FIG. 8 and FIG. 14, `docs/rx-path.md`), which looks up
//! the same two CAMs through their second ports and pushes learn events
//! into the same queue (a TX miss, registered a cycle after its frame's
//! decision, first when both come in one cycle; one RX event waits in a
//! register meanwhile).
//!
//! ```text
//!  s_host[0] (PF) ─┐
//!  s_host[1] (VF0)─┼─▶ TxArbiter ─▶ classifier ─────────────▶ PacketFifo ─▶ Encapsulator ─▶ m_wire
//!  ...            ─┘   (frame RR)    │ HeaderParser (tap)      (store and     (50/54-byte header
//!                                    │ lookups at first beat    forward,       inserted while
//!                                    │ checks + descriptor      drops bad)     streaming)
//!                                    ▼ at the last beat
//!                      Cam (mapping table), Cam (VNI records), counters, EventQueue
//!                                    ▲
//!  axil ──────────────────▶ RegisterFile (PF BAR0: config, table commands, counters, events)
//!  vf_axil ───────────────▶ VfRegisterFile (VF BAR0s: identification, read-only copies)
//! ```
//!
//! The classifier looks up (VNI, inner dst MAC) and the VNI's record as soon
//! as a frame's first beat is offered, so the results are back before the
//! frame ends (frames of four beats or more never wait). Parser results
//! come one cycle after the last beat, and the checksum and TSO taps watch
//! the stream a register later (so their first-beat logic starts next to
//! them, not at the arbiter's widely fanned-out output) and finish three
//! cycles after that. So the frame passes through four pipeline registers,
//! and its descriptor and drop decision are ready exactly when its last
//! beat reaches the packet buffer, which takes the descriptor from that
//! beat (`PacketFifo::with_tail_meta`). The four registers never stall:
//! the input takes a beat only when the buffer's registered `s_room` says
//! it will have room four cycles on (`PacketFifo::credited`), so no clock
//! enable waits on the buffer's fill. The buffer holds two maximum frames
//! (less that margin, six beats), so the encapsulator always has the next
//! frame whole when the previous one ends: the wire sees no gap between
//! frames.
//!
//! Register slave indices: the register file's array holds the function
//! blocks first (function `f`'s register `r` at `f * 21 + r`), then the
//! global registers. rust-hdl's Verilog generator evaluates array indices
//! with nothing but loop variables in scope, so function indices are
//! written as literals (checked against the table in `new`) and global ones
//! through one-iteration loops over Rust constants.

use crate::cam::Cam;
use crate::checksum_inserter::ChecksumInserter;
use crate::encapsulator::Encapsulator;
use crate::event_queue::{EventQueue, EventRecord};
use crate::header_parser::HeaderParser;
use crate::packet_fifo::PacketFifo;
use crate::register_file::RegisterFile;
use crate::rx_path::RxPath;
use crate::rx_types::RxMeta;
use crate::segment_sum_fifo::SegmentSumFifo;
use crate::stream::{StreamSink, StreamSource};
use crate::tso_first_segment::TsoFirstSegment;
use crate::tso_segmenter::TsoSegmenter;
use crate::tso_tap::TsoTap;
use crate::tx_arbiter::TxArbiter;
use crate::tx_checksum_tap::TxChecksumTap;
use crate::tx_types::{
    MapValue, TsoInfo, TxDescriptor, TxHostMeta, TxOffloadRequest, TxTagged, TxTapResult,
    TxVerdict, VniRecord, VtepConfig,
};
use crate::vf_register_file::{VfRegisterFile, VF_MIRROR_REGISTERS};
use overlay_nic_regmap::{pf, Build, Register};
use rust_hdl::prelude::*;

/// Cycles from a beat's take at the TX input to its write into the buffer
/// (r1-r4).
const TX_STAGES: usize = 4;

/// Registers per function block (`regmap::pf::function::TABLE`).
pub const FUNCTION_REGISTERS: usize = 21;

const fn global(r: &Register) -> usize {
    let mut i = 0;
    while i < pf::TABLE.len() {
        if pf::TABLE[i].offset == r.offset {
            return i;
        }
        i += 1;
    }
    panic!("not a global register");
}

const G_VTEP_MAC_HI: usize = global(&pf::VTEP_MAC_HI);
const G_VTEP_MAC_LO: usize = global(&pf::VTEP_MAC_LO);
const G_VTEP_IP: usize = global(&pf::VTEP_IP);
const G_VTEP_NETMASK: usize = global(&pf::VTEP_NETMASK);
const G_VXLAN_UDP_PORT: usize = global(&pf::VXLAN_UDP_PORT);
const G_UDP_SRC_PORT_RANGE: usize = global(&pf::UDP_SRC_PORT_RANGE);
const G_OUTER_IP: usize = global(&pf::OUTER_IP);
const G_OUTER_VLAN: usize = global(&pf::OUTER_VLAN);
const G_VTEP_GW_MAC_HI: usize = global(&pf::VTEP_GW_MAC_HI);
const G_VTEP_GW_MAC_LO: usize = global(&pf::VTEP_GW_MAC_LO);
const G_MAP_KEY_VNI: usize = global(&pf::MAP_KEY_VNI);
const G_MAP_KEY_MAC_HI: usize = global(&pf::MAP_KEY_MAC_HI);
const G_MAP_KEY_MAC_LO: usize = global(&pf::MAP_KEY_MAC_LO);
const G_MAP_VTEP_IP: usize = global(&pf::MAP_VTEP_IP);
const G_MAP_VTEP_MAC_HI: usize = global(&pf::MAP_VTEP_MAC_HI);
const G_MAP_VTEP_MAC_LO: usize = global(&pf::MAP_VTEP_MAC_LO);
const G_MAP_INDEX: usize = global(&pf::MAP_INDEX);
const G_MAP_CMD: usize = global(&pf::MAP_CMD);
const G_MAP_STATUS: usize = global(&pf::MAP_STATUS);
const G_MAP_RD_KEY_VNI: usize = global(&pf::MAP_RD_KEY_VNI);
const G_MAP_RD_KEY_MAC_HI: usize = global(&pf::MAP_RD_KEY_MAC_HI);
const G_MAP_RD_KEY_MAC_LO: usize = global(&pf::MAP_RD_KEY_MAC_LO);
const G_MAP_RD_VTEP_IP: usize = global(&pf::MAP_RD_VTEP_IP);
const G_MAP_RD_VTEP_MAC_HI: usize = global(&pf::MAP_RD_VTEP_MAC_HI);
const G_MAP_RD_VTEP_MAC_LO: usize = global(&pf::MAP_RD_VTEP_MAC_LO);
const G_MAP_RD_INDEX: usize = global(&pf::MAP_RD_INDEX);
const G_VNI_KEY: usize = global(&pf::VNI_KEY);
const G_VNI_MCAST_IP: usize = global(&pf::VNI_MCAST_IP);
const G_VNI_GW_IP: usize = global(&pf::VNI_GW_IP);
const G_VNI_GW_MAC_HI: usize = global(&pf::VNI_GW_MAC_HI);
const G_VNI_GW_MAC_LO: usize = global(&pf::VNI_GW_MAC_LO);
const G_VNI_POLICY: usize = global(&pf::VNI_POLICY);
const G_VNI_INDEX: usize = global(&pf::VNI_INDEX);
const G_VNI_CMD: usize = global(&pf::VNI_CMD);
const G_VNI_STATUS: usize = global(&pf::VNI_STATUS);
const G_VNI_RD_KEY: usize = global(&pf::VNI_RD_KEY);
const G_VNI_RD_MCAST_IP: usize = global(&pf::VNI_RD_MCAST_IP);
const G_VNI_RD_GW_IP: usize = global(&pf::VNI_RD_GW_IP);
const G_VNI_RD_GW_MAC_HI: usize = global(&pf::VNI_RD_GW_MAC_HI);
const G_VNI_RD_GW_MAC_LO: usize = global(&pf::VNI_RD_GW_MAC_LO);
const G_VNI_RD_POLICY: usize = global(&pf::VNI_RD_POLICY);
const G_VNI_RD_INDEX: usize = global(&pf::VNI_RD_INDEX);
const G_EVENT_STATUS: usize = global(&pf::EVENT_STATUS);
const G_EVENT_LOST: usize = global(&pf::EVENT_LOST);
const G_EVENT_TYPE_VNI: usize = global(&pf::EVENT_TYPE_VNI);
const G_EVENT_MAC_HI: usize = global(&pf::EVENT_MAC_HI);
const G_EVENT_MAC_LO: usize = global(&pf::EVENT_MAC_LO);
const G_EVENT_VTEP_IP: usize = global(&pf::EVENT_VTEP_IP);
const G_EVENT_VTEP_MAC_HI: usize = global(&pf::EVENT_VTEP_MAC_HI);
const G_EVENT_VTEP_MAC_LO: usize = global(&pf::EVENT_VTEP_MAC_LO);
const G_EVENT_POP: usize = global(&pf::EVENT_POP);
const G_RX_CONFIG: usize = global(&pf::RX_CONFIG);
const G_RX_WIRE_FRAMES: usize = global(&pf::RX_WIRE_FRAMES);
const G_RX_WIRE_BYTES: usize = global(&pf::RX_WIRE_BYTES);
const G_RX_NON_OVERLAY: usize = global(&pf::RX_NON_OVERLAY);
const G_RX_DECAPSULATED: usize = global(&pf::RX_DECAPSULATED);
const G_RX_LEARN: usize = global(&pf::RX_LEARN);
const G_RX_DROP_TRUNCATED: usize = global(&pf::RX_DROP_TRUNCATED);
const G_RX_DROP_IP_LENGTH: usize = global(&pf::RX_DROP_IP_LENGTH);
const G_RX_DROP_IP_CHECKSUM: usize = global(&pf::RX_DROP_IP_CHECKSUM);
const G_RX_DROP_FRAGMENT: usize = global(&pf::RX_DROP_FRAGMENT);
const G_RX_DROP_UDP_LENGTH: usize = global(&pf::RX_DROP_UDP_LENGTH);
const G_RX_DROP_UDP_CHECKSUM: usize = global(&pf::RX_DROP_UDP_CHECKSUM);
const G_RX_DROP_DST_MAC: usize = global(&pf::RX_DROP_DST_MAC);
const G_RX_DROP_VXLAN_FLAGS: usize = global(&pf::RX_DROP_VXLAN_FLAGS);
const G_RX_DROP_NO_VNI: usize = global(&pf::RX_DROP_NO_VNI);
const G_RX_DROP_DST_IP: usize = global(&pf::RX_DROP_DST_IP);
const G_RX_DROP_VLAN: usize = global(&pf::RX_DROP_VLAN);
const G_RX_DROP_OVERFLOW: usize = global(&pf::RX_DROP_OVERFLOW);

/// The register table in the order the TX path's register file holds it:
/// function blocks first, then the globals.
pub fn nic_register_table(build: &Build) -> Vec<Register> {
    let full = pf::table(build);
    let globals = pf::TABLE.len();
    let mut out: Vec<Register> = full[globals..].to_vec();
    out.extend_from_slice(&full[..globals]);
    out
}

/// The TSO segment-sum FIFO's address bits for a TX buffer of `2^baw`
/// beats and frames of up to `max_frame` bytes (the `SAW` parameter).
///
/// Every TSO frame has at least 54 bytes, and a frame of `len` bytes has at
/// most `(len - 54) / 64 + 1 <= len / 54` segments (`mss >= 64`), so the
/// committed sums of the frames in the buffer are at most `8 * 2^baw / 54`,
/// plus the speculative sums of the frame coming in (`max_frame / 54`) and
/// the FIFO's output queue.
pub const fn segment_sum_fifo_bits(baw: usize, max_frame: usize) -> usize {
    let need = (8 << baw) / 54 + max_frame / 54 + 4;
    let mut bits = 2;
    while (1 << bits) < need {
        bits += 1;
    }
    bits
}

/// Register count of a build's TX register file (the `NR` parameter).
pub const fn nic_register_count(vfs: usize) -> usize {
    pf::TABLE.len() + (vfs + 1) * FUNCTION_REGISTERS
}

/// Parameters (rust-hdl needs each as a constant; [`Nic::new`] checks
/// them against a [`Build`]): `NF` functions (PF + VFs); `NR` registers
/// ([`nic_register_count`]); `E`/`EAW` mapping-table entries and slot bits;
/// `V`/`VAW` VNI records and slot bits; `BAW`/`BAWP1` log2 of the TX buffer
/// in beats and one more; `SAW`/`SAWP1` log2 of the TSO segment-sum FIFO's
/// entries and one more ([`segment_sum_fifo_bits`]).
#[derive(LogicBlock)]
pub struct Nic<
    const NF: usize,
    const NR: usize,
    const VM: usize,
    const E: usize,
    const EAW: usize,
    const V: usize,
    const VAW: usize,
    const BAW: usize,
    const BAWP1: usize,
    const SAW: usize,
    const SAWP1: usize,
> {
    pub clock: Signal<In, Clock>,
    /// Host frames, one stream per function (0 = PF, 1 + i = VF i).
    pub s_host: [StreamSink<TxHostMeta>; NF],
    /// Frames to the MAC (no FCS).
    pub m_wire: StreamSource<Bit>,
    /// PF BAR0.
    pub axil: crate::axi_lite::AxiLiteSlave,
    /// Every VF's BAR0: VF i's window at `i * 0x1000` (`regmap::vf`).
    pub vf_axil: crate::axi_lite::AxiLiteSlave,
    /// Events are waiting in the queue (interrupt status).
    pub irq: Signal<Out, Bit>,
    /// Frames from the MAC (RX; never back-pressured).
    pub s_wire: StreamSink<Bit>,
    /// Received frames to each host function (0 = PF, 1 + i = VF i).
    pub m_host: [StreamSource<RxMeta>; NF],
    rx: RxPath<NF, BAW, BAWP1>,
    g_rx_config: Signal<Local, Bits<32>>,
    ev_pend: DFF<Bit>,
    ev_pend_rec: DFF<EventRecord>,
    tx_push: Signal<Local, Bit>,
    /// A TX miss event, registered on its way to the queue: the decision
    /// that raises it is at the end of a long path already.
    ev_tx: DFF<Bit>,
    ev_tx_rec: DFF<EventRecord>,
    arbiter: TxArbiter<NF>,
    parser: HeaderParser,
    map: Cam<72, MapValue, E, EAW>,
    vnis: Cam<24, VniRecord, V, VAW>,
    buffer: PacketFifo<TxDescriptor, BAW, BAWP1, 5, 6>,
    csum_tap: TxChecksumTap,
    tso_tap: TsoTap,
    /// Segment 0's values from `TsoTap`'s record, in the cycle `tt_info`
    /// takes: the segmenter has them with the frame's first beat.
    tso_first: TsoFirstSegment,
    sums: SegmentSumFifo<SAW, SAWP1>,
    segmenter: TsoSegmenter,
    /// The TX buffer's metadata ring pointer, kept here too (it moves on
    /// the same `tlast` hand-overs): the segmenter's `s_tso_en` picks its
    /// bit from the ring's slots by this copy, off the buffer's select.
    seg_hp: DFF<Bit>,
    seg_ta: Signal<Local, TsoInfo>,
    seg_tb: Signal<Local, TsoInfo>,
    seg_tso: Signal<Local, Bit>,
    inserter: ChecksumInserter<TxDescriptor>,
    encap: Encapsulator,
    events: EventQueue<4, 5>,
    regs: RegisterFile<NR>,
    vf_regs: VfRegisterFile<NF, VM>,
    // ---- Configuration, decoded from registers ----
    vtep: Signal<Local, VtepConfig>,
    netmask: Signal<Local, Bits<32>>,
    gw_mac: Signal<Local, Bits<48>>,
    port_lo: Signal<Local, Bits<16>>,
    port_hi: Signal<Local, Bits<16>>,
    g_vtep_mac_hi: Signal<Local, Bits<32>>,
    g_vtep_mac_lo: Signal<Local, Bits<32>>,
    g_vtep_ip: Signal<Local, Bits<32>>,
    g_vtep_netmask: Signal<Local, Bits<32>>,
    g_vxlan_udp_port: Signal<Local, Bits<32>>,
    g_udp_src_port_range: Signal<Local, Bits<32>>,
    g_outer_ip: Signal<Local, Bits<32>>,
    g_outer_vlan: Signal<Local, Bits<32>>,
    g_vtep_gw_mac_hi: Signal<Local, Bits<32>>,
    g_vtep_gw_mac_lo: Signal<Local, Bits<32>>,
    g_map_key_vni: Signal<Local, Bits<32>>,
    g_map_key_mac_hi: Signal<Local, Bits<32>>,
    g_map_key_mac_lo: Signal<Local, Bits<32>>,
    g_map_vtep_ip: Signal<Local, Bits<32>>,
    g_map_vtep_mac_hi: Signal<Local, Bits<32>>,
    g_map_vtep_mac_lo: Signal<Local, Bits<32>>,
    g_map_index: Signal<Local, Bits<32>>,
    g_map_cmd: Signal<Local, Bits<32>>,
    g_vni_key: Signal<Local, Bits<32>>,
    g_vni_mcast_ip: Signal<Local, Bits<32>>,
    g_vni_gw_ip: Signal<Local, Bits<32>>,
    g_vni_gw_mac_hi: Signal<Local, Bits<32>>,
    g_vni_gw_mac_lo: Signal<Local, Bits<32>>,
    g_vni_policy: Signal<Local, Bits<32>>,
    g_vni_index: Signal<Local, Bits<32>>,
    g_vni_cmd: Signal<Local, Bits<32>>,
    p_map_cmd: Signal<Local, Bit>,
    p_vni_cmd: Signal<Local, Bit>,
    p_event_pop: Signal<Local, Bit>,
    s_map_status: Signal<Local, Bits<32>>,
    s_map_rd_key_vni: Signal<Local, Bits<32>>,
    s_map_rd_key_mac_hi: Signal<Local, Bits<32>>,
    s_map_rd_key_mac_lo: Signal<Local, Bits<32>>,
    s_map_rd_vtep_ip: Signal<Local, Bits<32>>,
    s_map_rd_vtep_mac_hi: Signal<Local, Bits<32>>,
    s_map_rd_vtep_mac_lo: Signal<Local, Bits<32>>,
    s_map_rd_index: Signal<Local, Bits<32>>,
    s_vni_status: Signal<Local, Bits<32>>,
    s_vni_rd_key: Signal<Local, Bits<32>>,
    s_vni_rd_mcast_ip: Signal<Local, Bits<32>>,
    s_vni_rd_gw_ip: Signal<Local, Bits<32>>,
    s_vni_rd_gw_mac_hi: Signal<Local, Bits<32>>,
    s_vni_rd_gw_mac_lo: Signal<Local, Bits<32>>,
    s_vni_rd_policy: Signal<Local, Bits<32>>,
    s_vni_rd_index: Signal<Local, Bits<32>>,
    s_event_status: Signal<Local, Bits<32>>,
    s_event_lost: Signal<Local, Bits<32>>,
    s_event_type_vni: Signal<Local, Bits<32>>,
    s_event_mac_hi: Signal<Local, Bits<32>>,
    s_event_mac_lo: Signal<Local, Bits<32>>,
    s_event_vtep_ip: Signal<Local, Bits<32>>,
    s_event_vtep_mac_hi: Signal<Local, Bits<32>>,
    s_event_vtep_mac_lo: Signal<Local, Bits<32>>,
    fn_mac_hi: [Signal<Local, Bits<16>>; NF],
    fn_mac_lo: [Signal<Local, Bits<32>>; NF],
    fn_vni: [Signal<Local, Bits<24>>; NF],
    fn_overlay: [Signal<Local, Bit>; NF],
    fn_mtu: [Signal<Local, Bits<16>>; NF],
    fn_id: [Constant<Bits<4>>; NF],
    max_frame: Constant<Bits<16>>,
    mcast_mac_base: Constant<Bits<48>>,
    group_mask: Constant<Bits<32>>,
    // ---- Input side: lookups at the first beat ----
    in_frame: DFF<Bit>,
    pending: DFF<Bit>,
    looked: DFF<Bit>,
    l_map_hit: DFF<Bit>,
    l_map: DFF<MapValue>,
    l_vni_hit: DFF<Bit>,
    l_vni: DFF<VniRecord>,
    a_map_hit: DFF<Bit>,
    a_map: DFF<MapValue>,
    a_vni_hit: DFF<Bit>,
    a_vni: DFF<VniRecord>,
    in_user: Signal<Local, TxTagged>,
    /// The frame's tag as it was on its first beat (the stream convention).
    u_first: DFF<TxTagged>,
    u_cur: Signal<Local, TxTagged>,
    // ---- Tap results: the taps' `done` is the cycle the frame's last beat
    // enters the buffer (the pipeline never stalls), so they are used as
    // they come ----
    t_now: Signal<Local, TxTapResult>,
    /// `TsoTap`'s results, a cycle later, to meet `TxChecksumTap`'s `done`
    /// (which is a cycle behind `TsoTap`'s).
    tt_ok: DFF<Bit>,
    tt_seg_l3_max: DFF<Bits<16>>,
    tt_info: DFF<TsoInfo>,
    /// The longest segment is over the frame's MTU.
    t_seg_mtu: Signal<Local, Bit>,
    o_early: Signal<Local, Bit>,
    o_csum: Signal<Local, Bit>,
    o_ip: Signal<Local, Bit>,
    o_tso: Signal<Local, Bit>,
    o_any: Signal<Local, Bit>,
    o_mtu: Signal<Local, Bit>,
    o_kill: Signal<Local, Bit>,
    o_tso_en: Signal<Local, Bit>,

    o_tso_info: Signal<Local, TsoInfo>,
    o_segments: Signal<Local, Bits<16>>,
    o_frames: Signal<Local, Bits<32>>,
    o_desc: Signal<Local, TxDescriptor>,
    key_vni: Signal<Local, Bits<24>>,
    key_mac: Signal<Local, Bits<48>>,
    issue: Signal<Local, Bit>,
    have_result: Signal<Local, Bit>,
    in_ready: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    // ---- Pipeline registers ----
    r1_valid: DFF<Bit>,
    r1_data: DFF<Bits<64>>,
    r1_keep: DFF<Bits<8>>,
    r1_last: DFF<Bit>,
    r1_user: DFF<TxTagged>,
    // The sending function's settings, looked up as a beat enters r1 so the
    // decision does not wait on the function compare.
    r1_mac_hi: DFF<Bits<16>>,
    r1_mac_lo: DFF<Bits<32>>,
    r1_mtu: DFF<Bits<16>>,
    r1_vni: DFF<Bits<24>>,
    r1_encap: DFF<Bit>,
    r2_valid: DFF<Bit>,
    r2_data: DFF<Bits<64>>,
    r2_keep: DFF<Bits<8>>,
    r2_last: DFF<Bit>,
    r3_valid: DFF<Bit>,
    r3_data: DFF<Bits<64>>,
    r3_keep: DFF<Bits<8>>,
    r3_last: DFF<Bit>,
    r4_valid: DFF<Bit>,
    r4_data: DFF<Bits<64>>,
    r4_keep: DFF<Bits<8>>,
    r4_last: DFF<Bit>,
    /// A beat entered r1 last cycle: the taps watch the stream there, a
    /// cycle after the input, so that their first-beat logic starts from
    /// registers next to them rather than from the arbiter's output.
    took: DFF<Bit>,
    // ---- Decision, registered with the last beat into r2, then r3, r4 ----
    desc: DFF<TxDescriptor>,
    v2: DFF<TxVerdict>,
    desc3: DFF<TxDescriptor>,
    v3: DFF<TxVerdict>,
    desc4: DFF<TxDescriptor>,
    v4: DFF<TxVerdict>,
    // ---- Decision logic ----
    r1_off: Signal<Local, TxOffloadRequest>,
    c_fn: Signal<Local, Bits<4>>,
    rd_map_mac: Signal<Local, Bits<48>>,
    rd_gw_mac: Signal<Local, Bits<48>>,
    ev_mac: Signal<Local, Bits<48>>,
    ev_vtep_mac: Signal<Local, Bits<48>>,
    p_src_mac: Signal<Local, Bits<48>>,
    p_dst_mac: Signal<Local, Bits<48>>,
    c_mac_hi: Signal<Local, Bits<16>>,
    c_mac_lo: Signal<Local, Bits<32>>,
    u_mac_hi: Signal<Local, Bits<16>>,
    u_mac_lo: Signal<Local, Bits<32>>,
    u_mtu: Signal<Local, Bits<16>>,
    u_vni: Signal<Local, Bits<24>>,
    u_encap: Signal<Local, Bit>,
    c_mtu: Signal<Local, Bits<16>>,
    c_vni: Signal<Local, Bits<24>>,
    c_encap: Signal<Local, Bit>,
    c_payload: Signal<Local, Bits<16>>,
    c_runt: Signal<Local, Bit>,
    c_spoofed: Signal<Local, Bit>,
    c_mtu_bad: Signal<Local, Bit>,
    c_dropped_early: Signal<Local, Bit>,
    c_no_vni: Signal<Local, Bit>,
    c_bum: Signal<Local, Bit>,
    c_miss: Signal<Local, Bit>,
    c_flood: Signal<Local, Bit>,
    c_gateway: Signal<Local, Bit>,
    c_miss_drop: Signal<Local, Bit>,
    c_dst_ip: Signal<Local, Bits<32>>,
    c_dst_mac: Signal<Local, Bits<48>>,
    c_off_subnet: Signal<Local, Bit>,
    c_off_map: Signal<Local, Bit>,
    c_off_gw: Signal<Local, Bit>,
    c_span: Signal<Local, Bits<16>>,
    c_scaled: Signal<Local, Bits<32>>,
    c_port: Signal<Local, Bits<16>>,
    // ---- Accounting ----
    done: Signal<Local, Bit>,
    cnt_frames: [DFF<Bits<32>>; NF],
    cnt_bytes: [DFF<Bits<32>>; NF],
    cnt_encap: [DFF<Bits<32>>; NF],
    cnt_runt: [DFF<Bits<32>>; NF],
    cnt_spoofed: [DFF<Bits<32>>; NF],
    cnt_mtu: [DFF<Bits<32>>; NF],
    cnt_no_vni: [DFF<Bits<32>>; NF],
    cnt_miss_drop: [DFF<Bits<32>>; NF],
    cnt_misses: [DFF<Bits<32>>; NF],
    cnt_off_csum: [DFF<Bits<32>>; NF],
    cnt_off_ip: [DFF<Bits<32>>; NF],
    cnt_off_tso: [DFF<Bits<32>>; NF],
    cnt_segments: [DFF<Bits<32>>; NF],
    miss_event: Signal<Local, EventRecord>,
    map_val: Signal<Local, MapValue>,
    vni_val: Signal<Local, VniRecord>,
    map_used: Signal<Local, Bits<32>>,
    vni_used: Signal<Local, Bits<32>>,
    top_bit: Constant<Bits<32>>,
    miss_kind: Constant<Bits<8>>,
}

impl<
        const NF: usize,
        const NR: usize,
        const VM: usize,
        const E: usize,
        const EAW: usize,
        const V: usize,
        const VAW: usize,
        const BAW: usize,
        const BAWP1: usize,
        const SAW: usize,
        const SAWP1: usize,
    > Nic<NF, NR, VM, E, EAW, V, VAW, BAW, BAWP1, SAW, SAWP1>
{
    /// Builds the TX path for `build`; panics when the type parameters do
    /// not match it (a build-configuration error, caught at elaboration).
    pub fn new(build: &Build) -> Self {
        assert_eq!(NF, build.functions(), "Nic: NF must be VFs + 1");
        assert_eq!(
            NR,
            nic_register_count(build.vfs),
            "Nic: NR must be nic_register_count(vfs)"
        );
        assert_eq!(
            VM,
            build.vfs * VF_MIRROR_REGISTERS,
            "Nic: VM must be vfs * VF_MIRROR_REGISTERS"
        );
        // The literal mirror wiring in the kernel: every function-block
        // register but VNI (index 2), in table order.
        let shown: Vec<Register> = (0..FUNCTION_REGISTERS)
            .filter(|&k| k != 2)
            .map(|k| pf::function::TABLE[k])
            .collect();
        assert_eq!(crate::vf_register_file::vf_mirror_table(), shown);
        assert_eq!(E, build.table_entries, "Nic: E must be the table size");
        assert_eq!(V, build.vni_records, "Nic: V must be the VNI-record count");
        assert_eq!(build.event_depth, 16, "Nic: the event queue is 16 deep");
        assert!(
            build.max_frame <= 65535 && build.max_frame >= 64,
            "Nic: max_frame out of range"
        );
        assert!(
            2 * build.max_frame <= 8 << BAW,
            "Nic: the TX buffer must hold two maximum frames"
        );
        assert!(
            build.max_frame
                <= 8 * PacketFifo::<TxDescriptor, BAW, BAWP1, 5, 6>::credited_max_beats(TX_STAGES),
            "Nic: the TX buffer must pass a maximum frame past its input margin"
        );
        assert_eq!(
            SAW,
            segment_sum_fifo_bits(BAW, build.max_frame),
            "Nic: SAW must be segment_sum_fifo_bits(BAW, max_frame)"
        );
        assert_eq!(SAWP1, SAW + 1, "Nic: SAWP1 must be SAW + 1");
        // The literal function-register indices in the kernel.
        let expect = [
            (0usize, &pf::function::MAC_HI),
            (1, &pf::function::MAC_LO),
            (2, &pf::function::VNI),
            (3, &pf::function::MTU),
            (4, &pf::function::TX_FRAMES),
            (5, &pf::function::TX_BYTES),
            (6, &pf::function::TX_ENCAPSULATED),
            (7, &pf::function::TX_DROP_RUNT),
            (8, &pf::function::TX_DROP_SPOOFED),
            (9, &pf::function::TX_DROP_MTU),
            (10, &pf::function::TX_DROP_NO_VNI),
            (11, &pf::function::TX_DROP_MISS),
            (12, &pf::function::TX_MISSES),
            (13, &pf::function::RX_FRAMES),
            (14, &pf::function::RX_BYTES),
            (15, &pf::function::RX_DECAPSULATED),
            (16, &pf::function::RX_DROP_INNER_CHECKSUM),
            (17, &pf::function::TX_DROP_OFFLOAD_CSUM),
            (18, &pf::function::TX_DROP_OFFLOAD_IP),
            (19, &pf::function::TX_DROP_OFFLOAD_TSO),
            (20, &pf::function::TX_TSO_SEGMENTS),
        ];
        assert_eq!(pf::function::TABLE.len(), FUNCTION_REGISTERS);
        for (i, r) in expect {
            assert_eq!(
                pf::function::TABLE[i].offset,
                r.offset,
                "function register {i}"
            );
        }
        Self {
            clock: Default::default(),
            s_host: std::array::from_fn(|_| Default::default()),
            m_wire: Default::default(),
            axil: Default::default(),
            vf_axil: Default::default(),
            irq: Default::default(),
            s_wire: Default::default(),
            m_host: std::array::from_fn(|_| Default::default()),
            rx: Default::default(),
            g_rx_config: Default::default(),
            ev_pend: Default::default(),
            ev_pend_rec: Default::default(),
            tx_push: Default::default(),
            ev_tx: Default::default(),
            ev_tx_rec: Default::default(),
            arbiter: Default::default(),
            parser: Default::default(),
            map: Default::default(),
            vnis: Default::default(),
            buffer: PacketFifo::with_tail_meta().credited(TX_STAGES).meta_ring(),
            csum_tap: Default::default(),
            tso_tap: Default::default(),
            tso_first: Default::default(),
            sums: Default::default(),
            segmenter: Default::default(),
            seg_hp: Default::default(),
            seg_ta: Default::default(),
            seg_tb: Default::default(),
            seg_tso: Default::default(),
            inserter: Default::default(),
            encap: Default::default(),
            events: Default::default(),
            regs: RegisterFile::new(&nic_register_table(build)),
            vf_regs: VfRegisterFile::new(),
            vtep: Default::default(),
            netmask: Default::default(),
            gw_mac: Default::default(),
            port_lo: Default::default(),
            port_hi: Default::default(),
            g_vtep_mac_hi: Default::default(),
            g_vtep_mac_lo: Default::default(),
            g_vtep_ip: Default::default(),
            g_vtep_netmask: Default::default(),
            g_vxlan_udp_port: Default::default(),
            g_udp_src_port_range: Default::default(),
            g_outer_ip: Default::default(),
            g_outer_vlan: Default::default(),
            g_vtep_gw_mac_hi: Default::default(),
            g_vtep_gw_mac_lo: Default::default(),
            g_map_key_vni: Default::default(),
            g_map_key_mac_hi: Default::default(),
            g_map_key_mac_lo: Default::default(),
            g_map_vtep_ip: Default::default(),
            g_map_vtep_mac_hi: Default::default(),
            g_map_vtep_mac_lo: Default::default(),
            g_map_index: Default::default(),
            g_map_cmd: Default::default(),
            g_vni_key: Default::default(),
            g_vni_mcast_ip: Default::default(),
            g_vni_gw_ip: Default::default(),
            g_vni_gw_mac_hi: Default::default(),
            g_vni_gw_mac_lo: Default::default(),
            g_vni_policy: Default::default(),
            g_vni_index: Default::default(),
            g_vni_cmd: Default::default(),
            p_map_cmd: Default::default(),
            p_vni_cmd: Default::default(),
            p_event_pop: Default::default(),
            s_map_status: Default::default(),
            s_map_rd_key_vni: Default::default(),
            s_map_rd_key_mac_hi: Default::default(),
            s_map_rd_key_mac_lo: Default::default(),
            s_map_rd_vtep_ip: Default::default(),
            s_map_rd_vtep_mac_hi: Default::default(),
            s_map_rd_vtep_mac_lo: Default::default(),
            s_map_rd_index: Default::default(),
            s_vni_status: Default::default(),
            s_vni_rd_key: Default::default(),
            s_vni_rd_mcast_ip: Default::default(),
            s_vni_rd_gw_ip: Default::default(),
            s_vni_rd_gw_mac_hi: Default::default(),
            s_vni_rd_gw_mac_lo: Default::default(),
            s_vni_rd_policy: Default::default(),
            s_vni_rd_index: Default::default(),
            s_event_status: Default::default(),
            s_event_lost: Default::default(),
            s_event_type_vni: Default::default(),
            s_event_mac_hi: Default::default(),
            s_event_mac_lo: Default::default(),
            s_event_vtep_ip: Default::default(),
            s_event_vtep_mac_hi: Default::default(),
            s_event_vtep_mac_lo: Default::default(),
            fn_mac_hi: std::array::from_fn(|_| Default::default()),
            fn_mac_lo: std::array::from_fn(|_| Default::default()),
            fn_vni: std::array::from_fn(|_| Default::default()),
            fn_overlay: std::array::from_fn(|_| Default::default()),
            fn_mtu: std::array::from_fn(|_| Default::default()),
            fn_id: std::array::from_fn(|i| Constant::new((i as u64).to_bits())),
            max_frame: Constant::new((build.max_frame as u64).to_bits()),
            mcast_mac_base: Constant::new(0x0100_5e00_0000u64.to_bits()),
            group_mask: Constant::new(0x007f_ffffu64.to_bits()),
            in_frame: Default::default(),
            pending: Default::default(),
            looked: Default::default(),
            l_map_hit: Default::default(),
            l_map: Default::default(),
            l_vni_hit: Default::default(),
            l_vni: Default::default(),
            a_map_hit: Default::default(),
            a_map: Default::default(),
            a_vni_hit: Default::default(),
            a_vni: Default::default(),
            in_user: Default::default(),
            u_first: Default::default(),
            u_cur: Default::default(),
            t_now: Default::default(),
            tt_ok: Default::default(),
            tt_seg_l3_max: Default::default(),
            tt_info: Default::default(),
            t_seg_mtu: Default::default(),
            o_early: Default::default(),
            o_csum: Default::default(),
            o_ip: Default::default(),
            o_tso: Default::default(),
            o_any: Default::default(),
            o_mtu: Default::default(),
            o_kill: Default::default(),
            o_tso_en: Default::default(),

            o_tso_info: Default::default(),
            o_segments: Default::default(),
            o_frames: Default::default(),
            o_desc: Default::default(),
            key_vni: Default::default(),
            key_mac: Default::default(),
            issue: Default::default(),
            have_result: Default::default(),
            in_ready: Default::default(),
            take: Default::default(),
            r1_valid: Default::default(),
            r1_data: Default::default(),
            r1_keep: Default::default(),
            r1_last: Default::default(),
            r1_user: Default::default(),
            r1_mac_hi: Default::default(),
            r1_mac_lo: Default::default(),
            r1_mtu: Default::default(),
            r1_vni: Default::default(),
            r1_encap: Default::default(),
            r2_valid: Default::default(),
            r2_data: Default::default(),
            r2_keep: Default::default(),
            r2_last: Default::default(),
            r3_valid: Default::default(),
            r3_data: Default::default(),
            r3_keep: Default::default(),
            r3_last: Default::default(),
            r4_valid: Default::default(),
            r4_data: Default::default(),
            r4_keep: Default::default(),
            r4_last: Default::default(),
            took: Default::default(),
            desc: Default::default(),
            v2: Default::default(),
            desc3: Default::default(),
            v3: Default::default(),
            desc4: Default::default(),
            v4: Default::default(),
            r1_off: Default::default(),
            c_fn: Default::default(),
            rd_map_mac: Default::default(),
            rd_gw_mac: Default::default(),
            ev_mac: Default::default(),
            ev_vtep_mac: Default::default(),
            p_src_mac: Default::default(),
            p_dst_mac: Default::default(),
            c_mac_hi: Default::default(),
            c_mac_lo: Default::default(),
            u_mac_hi: Default::default(),
            u_mac_lo: Default::default(),
            u_mtu: Default::default(),
            u_vni: Default::default(),
            u_encap: Default::default(),
            c_mtu: Default::default(),
            c_vni: Default::default(),
            c_encap: Default::default(),
            c_payload: Default::default(),
            c_runt: Default::default(),
            c_spoofed: Default::default(),
            c_mtu_bad: Default::default(),
            c_dropped_early: Default::default(),
            c_no_vni: Default::default(),
            c_bum: Default::default(),
            c_miss: Default::default(),
            c_flood: Default::default(),
            c_gateway: Default::default(),
            c_miss_drop: Default::default(),
            c_dst_ip: Default::default(),
            c_dst_mac: Default::default(),
            c_off_subnet: Default::default(),
            c_off_map: Default::default(),
            c_off_gw: Default::default(),
            c_span: Default::default(),
            c_scaled: Default::default(),
            c_port: Default::default(),
            done: Default::default(),
            cnt_frames: std::array::from_fn(|_| Default::default()),
            cnt_bytes: std::array::from_fn(|_| Default::default()),
            cnt_encap: std::array::from_fn(|_| Default::default()),
            cnt_runt: std::array::from_fn(|_| Default::default()),
            cnt_spoofed: std::array::from_fn(|_| Default::default()),
            cnt_mtu: std::array::from_fn(|_| Default::default()),
            cnt_no_vni: std::array::from_fn(|_| Default::default()),
            cnt_miss_drop: std::array::from_fn(|_| Default::default()),
            cnt_misses: std::array::from_fn(|_| Default::default()),
            cnt_off_csum: std::array::from_fn(|_| Default::default()),
            cnt_off_ip: std::array::from_fn(|_| Default::default()),
            cnt_off_tso: std::array::from_fn(|_| Default::default()),
            cnt_segments: std::array::from_fn(|_| Default::default()),
            miss_event: Default::default(),
            map_val: Default::default(),
            vni_val: Default::default(),
            map_used: Default::default(),
            vni_used: Default::default(),
            top_bit: Constant::new(0x8000_0000u64.to_bits()),
            miss_kind: Constant::new(1.into()),
        }
    }

    /// RAM read/write collisions in simulation (must stay zero).
    pub fn ram_collisions(&self) -> u64 {
        self.map.ram_collisions()
            + self.vnis.ram_collisions()
            + self.buffer.ram_collisions()
            + self.sums.ram_collisions()
            + self.rx.ram_collisions()
    }
}

impl<
        const NF: usize,
        const NR: usize,
        const VM: usize,
        const E: usize,
        const EAW: usize,
        const V: usize,
        const VAW: usize,
        const BAW: usize,
        const BAWP1: usize,
        const SAW: usize,
        const SAWP1: usize,
    > Logic for Nic<NF, NR, VM, E, EAW, V, VAW, BAW, BAWP1, SAW, SAWP1>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            in_frame,
            pending,
            looked,
            seg_hp,
            l_map_hit,
            l_map,
            l_vni_hit,
            l_vni,
            a_map_hit,
            a_map,
            a_vni_hit,
            a_vni,
            r1_valid,
            r1_data,
            r1_keep,
            r1_last,
            r1_user,
            r1_mac_hi,
            r1_mac_lo,
            r1_mtu,
            r1_vni,
            r1_encap,
            r2_valid,
            r2_data,
            r2_keep,
            r2_last,
            r3_valid,
            r3_data,
            r3_keep,
            r3_last,
            r4_valid,
            r4_data,
            r4_keep,
            r4_last,
            took,
            desc,
            v2,
            desc3,
            v3,
            desc4,
            v4,
            u_first,
            tt_ok,
            tt_seg_l3_max,
            tt_info,
            ev_pend,
            ev_pend_rec,
            ev_tx,
            ev_tx_rec
        );
        clock!(
            self, clock, arbiter, parser, map, vnis, buffer, csum_tap, tso_tap, tso_first, sums,
            segmenter, inserter, encap, events, regs, rx
        );
        for f in 0..NF {
            self.cnt_frames[f].clock.next = self.clock.val();
            self.cnt_frames[f].d.next = self.cnt_frames[f].q.val();
            self.cnt_bytes[f].clock.next = self.clock.val();
            self.cnt_bytes[f].d.next = self.cnt_bytes[f].q.val();
            self.cnt_encap[f].clock.next = self.clock.val();
            self.cnt_encap[f].d.next = self.cnt_encap[f].q.val();
            self.cnt_runt[f].clock.next = self.clock.val();
            self.cnt_runt[f].d.next = self.cnt_runt[f].q.val();
            self.cnt_spoofed[f].clock.next = self.clock.val();
            self.cnt_spoofed[f].d.next = self.cnt_spoofed[f].q.val();
            self.cnt_mtu[f].clock.next = self.clock.val();
            self.cnt_mtu[f].d.next = self.cnt_mtu[f].q.val();
            self.cnt_no_vni[f].clock.next = self.clock.val();
            self.cnt_no_vni[f].d.next = self.cnt_no_vni[f].q.val();
            self.cnt_miss_drop[f].clock.next = self.clock.val();
            self.cnt_miss_drop[f].d.next = self.cnt_miss_drop[f].q.val();
            self.cnt_misses[f].clock.next = self.clock.val();
            self.cnt_misses[f].d.next = self.cnt_misses[f].q.val();
            self.cnt_off_csum[f].clock.next = self.clock.val();
            self.cnt_off_csum[f].d.next = self.cnt_off_csum[f].q.val();
            self.cnt_off_ip[f].clock.next = self.clock.val();
            self.cnt_off_ip[f].d.next = self.cnt_off_ip[f].q.val();
            self.cnt_off_tso[f].clock.next = self.clock.val();
            self.cnt_off_tso[f].d.next = self.cnt_off_tso[f].q.val();
            self.cnt_segments[f].clock.next = self.clock.val();
            self.cnt_segments[f].d.next = self.cnt_segments[f].q.val();
        }

        // ---- Host ports and register slave ----
        for i in 0..NF {
            StreamSink::<TxHostMeta>::link(&mut self.s_host[i], &mut self.arbiter.s_axis[i]);
        }
        crate::axi_lite::AxiLiteSlave::link(&mut self.axil, &mut self.regs.axil);
        crate::axi_lite::AxiLiteSlave::link(&mut self.vf_axil, &mut self.vf_regs.axil);
        self.vf_regs.clock.next = self.clock.val();
        for i in 0..NR {
            self.regs.status[i].next = 0.into();
        }

        // ---- Registers in and out ----
        // Plain copies only: rust-hdl evaluates bit_cast widths and array
        // indices outside the loop, so nothing else may use a loop index.
        for i in (G_VTEP_MAC_HI + NF * 21)..(G_VTEP_MAC_HI + NF * 21 + 1) {
            self.g_vtep_mac_hi.next = self.regs.value[i].val();
        }
        for i in (G_VTEP_MAC_LO + NF * 21)..(G_VTEP_MAC_LO + NF * 21 + 1) {
            self.g_vtep_mac_lo.next = self.regs.value[i].val();
        }
        for i in (G_VTEP_IP + NF * 21)..(G_VTEP_IP + NF * 21 + 1) {
            self.g_vtep_ip.next = self.regs.value[i].val();
        }
        for i in (G_VTEP_NETMASK + NF * 21)..(G_VTEP_NETMASK + NF * 21 + 1) {
            self.g_vtep_netmask.next = self.regs.value[i].val();
        }
        for i in (G_VXLAN_UDP_PORT + NF * 21)..(G_VXLAN_UDP_PORT + NF * 21 + 1) {
            self.g_vxlan_udp_port.next = self.regs.value[i].val();
        }
        for i in (G_UDP_SRC_PORT_RANGE + NF * 21)..(G_UDP_SRC_PORT_RANGE + NF * 21 + 1) {
            self.g_udp_src_port_range.next = self.regs.value[i].val();
        }
        for i in (G_OUTER_IP + NF * 21)..(G_OUTER_IP + NF * 21 + 1) {
            self.g_outer_ip.next = self.regs.value[i].val();
        }
        for i in (G_OUTER_VLAN + NF * 21)..(G_OUTER_VLAN + NF * 21 + 1) {
            self.g_outer_vlan.next = self.regs.value[i].val();
        }
        for i in (G_VTEP_GW_MAC_HI + NF * 21)..(G_VTEP_GW_MAC_HI + NF * 21 + 1) {
            self.g_vtep_gw_mac_hi.next = self.regs.value[i].val();
        }
        for i in (G_VTEP_GW_MAC_LO + NF * 21)..(G_VTEP_GW_MAC_LO + NF * 21 + 1) {
            self.g_vtep_gw_mac_lo.next = self.regs.value[i].val();
        }
        for i in (G_MAP_KEY_VNI + NF * 21)..(G_MAP_KEY_VNI + NF * 21 + 1) {
            self.g_map_key_vni.next = self.regs.value[i].val();
        }
        for i in (G_MAP_KEY_MAC_HI + NF * 21)..(G_MAP_KEY_MAC_HI + NF * 21 + 1) {
            self.g_map_key_mac_hi.next = self.regs.value[i].val();
        }
        for i in (G_MAP_KEY_MAC_LO + NF * 21)..(G_MAP_KEY_MAC_LO + NF * 21 + 1) {
            self.g_map_key_mac_lo.next = self.regs.value[i].val();
        }
        for i in (G_MAP_VTEP_IP + NF * 21)..(G_MAP_VTEP_IP + NF * 21 + 1) {
            self.g_map_vtep_ip.next = self.regs.value[i].val();
        }
        for i in (G_MAP_VTEP_MAC_HI + NF * 21)..(G_MAP_VTEP_MAC_HI + NF * 21 + 1) {
            self.g_map_vtep_mac_hi.next = self.regs.value[i].val();
        }
        for i in (G_MAP_VTEP_MAC_LO + NF * 21)..(G_MAP_VTEP_MAC_LO + NF * 21 + 1) {
            self.g_map_vtep_mac_lo.next = self.regs.value[i].val();
        }
        for i in (G_MAP_INDEX + NF * 21)..(G_MAP_INDEX + NF * 21 + 1) {
            self.g_map_index.next = self.regs.value[i].val();
        }
        for i in (G_MAP_CMD + NF * 21)..(G_MAP_CMD + NF * 21 + 1) {
            self.g_map_cmd.next = self.regs.value[i].val();
        }
        for i in (G_VNI_KEY + NF * 21)..(G_VNI_KEY + NF * 21 + 1) {
            self.g_vni_key.next = self.regs.value[i].val();
        }
        for i in (G_VNI_MCAST_IP + NF * 21)..(G_VNI_MCAST_IP + NF * 21 + 1) {
            self.g_vni_mcast_ip.next = self.regs.value[i].val();
        }
        for i in (G_VNI_GW_IP + NF * 21)..(G_VNI_GW_IP + NF * 21 + 1) {
            self.g_vni_gw_ip.next = self.regs.value[i].val();
        }
        for i in (G_VNI_GW_MAC_HI + NF * 21)..(G_VNI_GW_MAC_HI + NF * 21 + 1) {
            self.g_vni_gw_mac_hi.next = self.regs.value[i].val();
        }
        for i in (G_VNI_GW_MAC_LO + NF * 21)..(G_VNI_GW_MAC_LO + NF * 21 + 1) {
            self.g_vni_gw_mac_lo.next = self.regs.value[i].val();
        }
        for i in (G_VNI_POLICY + NF * 21)..(G_VNI_POLICY + NF * 21 + 1) {
            self.g_vni_policy.next = self.regs.value[i].val();
        }
        for i in (G_VNI_INDEX + NF * 21)..(G_VNI_INDEX + NF * 21 + 1) {
            self.g_vni_index.next = self.regs.value[i].val();
        }
        for i in (G_VNI_CMD + NF * 21)..(G_VNI_CMD + NF * 21 + 1) {
            self.g_vni_cmd.next = self.regs.value[i].val();
        }
        for i in (G_MAP_CMD + NF * 21)..(G_MAP_CMD + NF * 21 + 1) {
            self.p_map_cmd.next = self.regs.write_pulse[i].val();
        }
        for i in (G_VNI_CMD + NF * 21)..(G_VNI_CMD + NF * 21 + 1) {
            self.p_vni_cmd.next = self.regs.write_pulse[i].val();
        }
        for i in (G_EVENT_POP + NF * 21)..(G_EVENT_POP + NF * 21 + 1) {
            self.p_event_pop.next = self.regs.write_pulse[i].val();
        }
        for f in 0..NF {
            self.fn_mac_hi[f].next = self.regs.value[f * 21].val().get_bits::<16>(0);
            self.fn_mac_lo[f].next = self.regs.value[f * 21 + 1].val();
            self.fn_vni[f].next = self.regs.value[f * 21 + 2].val().get_bits::<24>(0);
            self.fn_overlay[f].next = self.regs.value[f * 21 + 2].val().get_bit(31);
            self.fn_mtu[f].next = self.regs.value[f * 21 + 3].val().get_bits::<16>(0);
        }
        for i in (G_RX_CONFIG + NF * 21)..(G_RX_CONFIG + NF * 21 + 1) {
            self.g_rx_config.next = self.regs.value[i].val();
        }

        // ---- Configuration ----
        self.vtep.next.mac = (bit_cast::<48, 32>(self.g_vtep_mac_hi.val()) << 32)
            | bit_cast::<48, 32>(self.g_vtep_mac_lo.val());
        self.vtep.next.ip = self.g_vtep_ip.val();
        self.vtep.next.udp_port = self.g_vxlan_udp_port.val().get_bits::<16>(0);
        self.vtep.next.ttl = self.g_outer_ip.val().get_bits::<8>(0);
        self.vtep.next.df = self.g_outer_ip.val().get_bit(8);
        self.vtep.next.udp_checksum = self.g_outer_ip.val().get_bit(9);
        self.vtep.next.vlan_enable = self.g_outer_vlan.val().get_bit(16);
        self.vtep.next.vlan_tci = self.g_outer_vlan.val().get_bits::<16>(0);
        self.netmask.next = self.g_vtep_netmask.val();
        self.port_lo.next = self.g_udp_src_port_range.val().get_bits::<16>(0);
        self.port_hi.next = self.g_udp_src_port_range.val().get_bits::<16>(16);
        self.gw_mac.next = (bit_cast::<48, 32>(self.g_vtep_gw_mac_hi.val()) << 32)
            | bit_cast::<48, 32>(self.g_vtep_gw_mac_lo.val());
        self.encap.vtep.next = self.vtep.val();

        // ---- RX path: configuration, the CAMs' second ports ----
        StreamSink::<Bit>::link(&mut self.s_wire, &mut self.rx.s_wire);
        for f in 0..NF {
            StreamSource::<RxMeta>::link(&mut self.m_host[f], &mut self.rx.m_host[f]);
            self.rx.fn_mac_hi[f].next = self.fn_mac_hi[f].val();
            self.rx.fn_mac_lo[f].next = self.fn_mac_lo[f].val();
            self.rx.fn_vni[f].next = self.fn_vni[f].val();
            self.rx.fn_overlay[f].next = self.fn_overlay[f].val();
        }
        self.rx.vtep_mac.next = self.vtep.val().mac;
        self.rx.vtep_ip.next = self.vtep.val().ip;
        self.rx.udp_port.next = self.vtep.val().udp_port;
        self.rx.vlan_enable.next = self.g_outer_vlan.val().get_bit(16);
        self.rx.vlan_id.next = self.g_outer_vlan.val().get_bits::<12>(0);
        self.rx.rx_config.next = self.g_rx_config.val().get_bits::<2>(0);
        self.map.lookup_b.next = self.rx.map_lookup.val();
        self.map.lookup_b_key.next = self.rx.map_key.val();
        self.rx.map_valid.next = self.map.result_b_valid.val();
        self.rx.map_hit.next = self.map.result_b_hit.val();
        self.rx.map_value.next = self.map.result_b_value.val();
        self.vnis.lookup_b.next = self.rx.vni_lookup.val();
        self.vnis.lookup_b_key.next = self.rx.vni_key.val();
        self.rx.vni_valid.next = self.vnis.result_b_valid.val();
        self.rx.vni_hit.next = self.vnis.result_b_hit.val();
        self.rx.vni_value.next = self.vnis.result_b_value.val();

        // ---- Mapping table and VNI records: commands from registers ----
        self.map.cmd_key.next = (bit_cast::<72, 32>(self.g_map_key_vni.val()) << 48)
            | (bit_cast::<72, 32>(self.g_map_key_mac_hi.val()) << 32)
            | bit_cast::<72, 32>(self.g_map_key_mac_lo.val());
        self.map_val.next.vtep_ip = self.g_map_vtep_ip.val();
        self.map_val.next.vtep_mac = (bit_cast::<48, 32>(self.g_map_vtep_mac_hi.val()) << 32)
            | bit_cast::<48, 32>(self.g_map_vtep_mac_lo.val());
        self.map.cmd_value.next = self.map_val.val();
        self.map.cmd_index.next = self.g_map_index.val().get_bits::<16>(0);
        self.map.cmd.next = self.p_map_cmd.val();
        self.map.cmd_code.next = self.g_map_cmd.val().get_bits::<3>(0);
        self.map_used.next = 0.into();
        if self.map.rd_valid.val() {
            self.map_used.next = self.top_bit.val();
        }
        self.rd_map_mac.next = self.map.rd_value.val().vtep_mac;
        self.rd_gw_mac.next = self.vnis.rd_value.val().gw_mac;
        self.ev_mac.next = self.events.head.val().mac;
        self.ev_vtep_mac.next = self.events.head.val().vtep_mac;
        self.s_map_status.next = self.map.status.val();
        self.s_map_rd_key_vni.next =
            bit_cast::<32, 24>(self.map.rd_key.val().get_bits::<24>(48)) | self.map_used.val();
        self.s_map_rd_key_mac_hi.next =
            bit_cast::<32, 16>(self.map.rd_key.val().get_bits::<16>(32));
        self.s_map_rd_key_mac_lo.next = self.map.rd_key.val().get_bits::<32>(0);
        self.s_map_rd_vtep_ip.next = self.map.rd_value.val().vtep_ip;
        self.s_map_rd_vtep_mac_hi.next =
            bit_cast::<32, 16>(self.rd_map_mac.val().get_bits::<16>(32));
        self.s_map_rd_vtep_mac_lo.next = self.rd_map_mac.val().get_bits::<32>(0);
        self.s_map_rd_index.next = bit_cast::<32, 16>(self.map.rd_index.val());

        self.vnis.cmd_key.next = self.g_vni_key.val().get_bits::<24>(0);
        self.vni_val.next.mcast_ip = self.g_vni_mcast_ip.val();
        self.vni_val.next.gw_ip = self.g_vni_gw_ip.val();
        self.vni_val.next.gw_mac = (bit_cast::<48, 32>(self.g_vni_gw_mac_hi.val()) << 32)
            | bit_cast::<48, 32>(self.g_vni_gw_mac_lo.val());
        self.vni_val.next.policy = self.g_vni_policy.val().get_bits::<2>(0);
        self.vnis.cmd_value.next = self.vni_val.val();
        self.vnis.cmd_index.next = self.g_vni_index.val().get_bits::<16>(0);
        self.vnis.cmd.next = self.p_vni_cmd.val();
        self.vnis.cmd_code.next = self.g_vni_cmd.val().get_bits::<3>(0);
        self.vni_used.next = 0.into();
        if self.vnis.rd_valid.val() {
            self.vni_used.next = self.top_bit.val();
        }
        self.s_vni_status.next = self.vnis.status.val();
        self.s_vni_rd_key.next = bit_cast::<32, 24>(self.vnis.rd_key.val()) | self.vni_used.val();
        self.s_vni_rd_mcast_ip.next = self.vnis.rd_value.val().mcast_ip;
        self.s_vni_rd_gw_ip.next = self.vnis.rd_value.val().gw_ip;
        self.s_vni_rd_gw_mac_hi.next = bit_cast::<32, 16>(self.rd_gw_mac.val().get_bits::<16>(32));
        self.s_vni_rd_gw_mac_lo.next = self.rd_gw_mac.val().get_bits::<32>(0);
        self.s_vni_rd_policy.next = bit_cast::<32, 2>(self.vnis.rd_value.val().policy);
        self.s_vni_rd_index.next = bit_cast::<32, 16>(self.vnis.rd_index.val());

        // ---- Event queue ----
        self.s_event_status.next = bit_cast::<32, 16>(self.events.count.val());
        self.s_event_lost.next = self.events.lost.val();
        self.s_event_type_vni.next = (bit_cast::<32, 8>(self.events.head.val().kind) << 24)
            | bit_cast::<32, 24>(self.events.head.val().vni);
        self.s_event_mac_hi.next = bit_cast::<32, 16>(self.ev_mac.val().get_bits::<16>(32));
        self.s_event_mac_lo.next = self.ev_mac.val().get_bits::<32>(0);
        self.s_event_vtep_ip.next = self.events.head.val().vtep_ip;
        self.s_event_vtep_mac_hi.next =
            bit_cast::<32, 16>(self.ev_vtep_mac.val().get_bits::<16>(32));
        self.s_event_vtep_mac_lo.next = self.ev_vtep_mac.val().get_bits::<32>(0);
        self.events.pop.next = self.p_event_pop.val();
        self.irq.next = self.events.count.val() != 0;

        // ---- Input: look up at the first beat ----
        self.in_user.next = self.arbiter.m_axis.tuser.val();
        // The frame's tag (at the first beat, the arbiter's) and its
        // function's settings, registered into r1 with each beat.
        self.u_cur.next = self.u_first.q.val();
        if !self.in_frame.q.val() {
            self.u_cur.next = self.in_user.val();
        }
        self.u_mac_hi.next = self.fn_mac_hi[0].val();
        self.u_mac_lo.next = self.fn_mac_lo[0].val();
        self.u_mtu.next = self.fn_mtu[0].val();
        self.u_vni.next = self.u_cur.val().vni;
        self.u_encap.next = self.u_cur.val().encap;
        for f in 1..NF {
            if self.u_cur.val().function == self.fn_id[f].val() {
                self.u_mac_hi.next = self.fn_mac_hi[f].val();
                self.u_mac_lo.next = self.fn_mac_lo[f].val();
                self.u_mtu.next = self.fn_mtu[f].val();
                self.u_vni.next = self.fn_vni[f].val();
                self.u_encap.next = self.fn_overlay[f].val();
            }
        }
        // The key's VNI compares the arbiter's tag directly, not `u_cur`:
        // a lookup is issued only at a first beat, where the two agree, and
        // `u_cur`'s in-frame mux would be one more level in front of the
        // CAM's comparators.
        self.key_vni.next = self.in_user.val().vni;
        for f in 1..NF {
            if self.in_user.val().function == self.fn_id[f].val() {
                self.key_vni.next = self.fn_vni[f].val();
            }
        }
        self.key_mac.next = (bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(0))
            << 40)
            | (bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(8)) << 32)
            | (bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(16)) << 24)
            | (bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(24)) << 16)
            | (bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(32)) << 8)
            | bit_cast::<48, 8>(self.arbiter.m_axis.tdata.val().get_bits::<8>(40));
        // Issued when the first beat is offered, not when it is taken: the
        // result is then back three cycles later however the beat is held.
        self.issue.next = self.arbiter.m_axis.tvalid.val()
            & !self.in_frame.q.val()
            & !self.pending.q.val()
            & !self.looked.q.val();
        self.map.lookup.next = self.issue.val();
        self.map.lookup_key.next =
            (bit_cast::<72, 24>(self.key_vni.val()) << 48) | bit_cast::<72, 48>(self.key_mac.val());
        self.vnis.lookup.next = self.issue.val();
        self.vnis.lookup_key.next = self.key_vni.val();
        if self.issue.val() {
            self.pending.d.next = true;
        }
        self.have_result.next = self.looked.q.val() | self.map.result_valid.val();
        if self.map.result_valid.val() {
            self.pending.d.next = false;
            self.looked.d.next = true;
            self.l_map_hit.d.next = self.map.result_hit.val();
            self.l_map.d.next = self.map.result_value.val();
            self.l_vni_hit.d.next = self.vnis.result_hit.val();
            self.l_vni.d.next = self.vnis.result_value.val();
        }

        // ---- Four pipeline registers between the input and the buffer ----
        // They move every cycle: a beat is taken only when the buffer has
        // room for it four cycles on (`s_room`, a register), so nothing
        // behind the buffer's fill fans out into their clock enables.
        // A frame's last beat waits for its lookup result.
        self.in_ready.next =
            self.buffer.s_room.val() & (!self.arbiter.m_axis.tlast.val() | self.have_result.val());
        self.arbiter.m_axis.tready.next = self.in_ready.val();
        self.take.next = self.arbiter.m_axis.tvalid.val() & self.in_ready.val();
        self.parser.tdata.next = self.arbiter.m_axis.tdata.val();
        self.parser.tkeep.next = self.arbiter.m_axis.tkeep.val();
        self.parser.tlast.next = self.arbiter.m_axis.tlast.val();
        self.parser.beat.next = self.take.val();
        self.csum_tap.tdata.next = self.r1_data.q.val();
        self.csum_tap.tkeep.next = self.r1_keep.q.val();
        self.csum_tap.tlast.next = self.r1_last.q.val();
        self.csum_tap.beat.next = self.took.q.val();
        self.csum_tap.req.next = self.r1_user.q.val().offload;
        self.tso_tap.tdata.next = self.r1_data.q.val();
        self.tso_tap.tkeep.next = self.r1_keep.q.val();
        self.tso_tap.tlast.next = self.r1_last.q.val();
        self.tso_tap.beat.next = self.took.q.val();
        self.tso_tap.req.next = self.r1_user.q.val().offload;
        self.sums.push.next = self.tso_tap.sum_push.val();
        self.sums.push_value.next = self.tso_tap.sum_value.val();
        if self.take.val() {
            self.u_first.d.next = self.u_cur.val();
            self.in_frame.d.next = !self.arbiter.m_axis.tlast.val();
            if self.arbiter.m_axis.tlast.val() {
                self.looked.d.next = false;
                // Keep this frame's results until its descriptor is made.
                self.a_map_hit.d.next = self.l_map_hit.q.val();
                self.a_map.d.next = self.l_map.q.val();
                self.a_vni_hit.d.next = self.l_vni_hit.q.val();
                self.a_vni.d.next = self.l_vni.q.val();
                if self.map.result_valid.val() {
                    self.a_map_hit.d.next = self.map.result_hit.val();
                    self.a_map.d.next = self.map.result_value.val();
                    self.a_vni_hit.d.next = self.vnis.result_hit.val();
                    self.a_vni.d.next = self.vnis.result_value.val();
                }
            }
        }
        self.r1_valid.d.next = self.take.val();
        self.r1_data.d.next = self.arbiter.m_axis.tdata.val();
        self.r1_keep.d.next = self.arbiter.m_axis.tkeep.val();
        self.r1_last.d.next = self.arbiter.m_axis.tlast.val();
        self.r1_user.d.next = self.u_cur.val();
        self.r1_mac_hi.d.next = self.u_mac_hi.val();
        self.r1_mac_lo.d.next = self.u_mac_lo.val();
        self.r1_mtu.d.next = self.u_mtu.val();
        self.r1_vni.d.next = self.u_vni.val();
        self.r1_encap.d.next = self.u_encap.val();
        self.r2_valid.d.next = self.r1_valid.q.val();
        self.r2_data.d.next = self.r1_data.q.val();
        self.r2_keep.d.next = self.r1_keep.q.val();
        self.r2_last.d.next = self.r1_last.q.val();
        self.r3_valid.d.next = self.r2_valid.q.val();
        self.r3_data.d.next = self.r2_data.q.val();
        self.r3_keep.d.next = self.r2_keep.q.val();
        self.r3_last.d.next = self.r2_last.q.val();
        self.r4_valid.d.next = self.r3_valid.q.val();
        self.r4_data.d.next = self.r3_data.q.val();
        self.r4_keep.d.next = self.r3_keep.q.val();
        self.r4_last.d.next = self.r3_last.q.val();
        if self.r2_valid.q.val() & self.r2_last.q.val() {
            self.desc3.d.next = self.desc.q.val();
            self.v3.d.next = self.v2.q.val();
        }
        if self.r3_valid.q.val() & self.r3_last.q.val() {
            self.desc4.d.next = self.desc3.q.val();
            self.v4.d.next = self.v3.q.val();
        }
        self.took.d.next = self.take.val();

        // ---- Decision for the frame whose last beat is in r1 ----
        // (the parser's results are this frame's from now until the next
        // frame's last beat is taken, which cannot happen before r1 moves)
        self.c_fn.next = self.r1_user.q.val().function;
        self.r1_off.next = self.r1_user.q.val().offload;
        self.c_mac_hi.next = self.r1_mac_hi.q.val();
        self.c_mac_lo.next = self.r1_mac_lo.q.val();
        self.c_mtu.next = self.r1_mtu.q.val();
        self.c_vni.next = self.r1_vni.q.val();
        self.c_encap.next = self.r1_encap.q.val();
        self.p_src_mac.next = self.parser.fields.val().src_mac;
        self.p_dst_mac.next = self.parser.fields.val().dst_mac;
        self.c_runt.next = self.parser.fields.val().runt;
        self.c_spoofed.next = (self.c_fn.val() != 0)
            & ((self.p_src_mac.val().get_bits::<16>(32) != self.c_mac_hi.val())
                | (self.p_src_mac.val().get_bits::<32>(0) != self.c_mac_lo.val()));
        self.c_payload.next = self.parser.fields.val().length - 14;
        if self.parser.fields.val().vlan {
            self.c_payload.next = self.parser.fields.val().length - 18;
        }
        self.c_mtu_bad.next = self.c_payload.val() > self.c_mtu.val();
        // The MTU is judged when the frame enters the buffer (a TSO frame's
        // segment length comes from the tap); the lookups' outcomes are
        // made here without it and masked then.
        self.c_dropped_early.next = self.c_runt.val() | self.c_spoofed.val();
        self.c_no_vni.next =
            self.c_encap.val() & !self.c_dropped_early.val() & !self.a_vni_hit.q.val();
        self.c_bum.next = self.p_dst_mac.val().get_bit(40);
        self.c_miss.next = self.c_encap.val()
            & !self.c_dropped_early.val()
            & self.a_vni_hit.q.val()
            & !self.c_bum.val()
            & !self.a_map_hit.q.val();
        self.c_flood.next =
            self.c_bum.val() | (self.c_miss.val() & (self.a_vni.q.val().policy == 0));
        self.c_gateway.next = self.c_miss.val() & (self.a_vni.q.val().policy == 1);
        self.c_miss_drop.next = self.c_miss.val() & !self.c_flood.val() & !self.c_gateway.val();
        self.c_dst_ip.next = self.a_map.q.val().vtep_ip;
        self.c_dst_mac.next = self.a_map.q.val().vtep_mac;
        if self.c_gateway.val() {
            self.c_dst_ip.next = self.a_vni.q.val().gw_ip;
            self.c_dst_mac.next = self.a_vni.q.val().gw_mac;
        }
        // Both candidates' subnet checks side by side, picked like the IP.
        self.c_off_map.next =
            ((self.a_map.q.val().vtep_ip ^ self.vtep.val().ip) & self.netmask.val()) != 0;
        self.c_off_gw.next =
            ((self.a_vni.q.val().gw_ip ^ self.vtep.val().ip) & self.netmask.val()) != 0;
        self.c_off_subnet.next = self.c_off_map.val();
        if self.c_gateway.val() {
            self.c_off_subnet.next = self.c_off_gw.val();
        }
        if self.c_off_subnet.val() {
            self.c_dst_mac.next = self.gw_mac.val();
        }
        if self.c_flood.val() {
            self.c_dst_ip.next = self.a_vni.q.val().mcast_ip;
            self.c_dst_mac.next = self.mcast_mac_base.val()
                | bit_cast::<48, 32>(self.a_vni.q.val().mcast_ip & self.group_mask.val());
        }
        // Linux's udp_flow_src_port scaling: lo + (h * (hi - lo + 1)) >> 16.
        self.c_span.next = self.port_hi.val() - self.port_lo.val();
        self.c_scaled.next = (self.parser.fields.val().flow_hash * self.c_span.val())
            + bit_cast::<32, 16>(self.parser.fields.val().flow_hash);
        self.c_port.next = self.port_lo.val() + self.c_scaled.val().get_bits::<16>(16);
        if self.port_hi.val() < self.port_lo.val() {
            self.c_port.next = self.port_lo.val();
        }
        if self.r1_valid.q.val() & self.r1_last.q.val() {
            self.desc.d.next.encap = self.c_encap.val();
            self.desc.d.next.vni = self.c_vni.val();
            self.desc.d.next.dst_ip = self.c_dst_ip.val();
            self.desc.d.next.dst_mac = self.c_dst_mac.val();
            self.desc.d.next.src_port = self.c_port.val();
            self.desc.d.next.length = self.parser.fields.val().length;
            self.v2.d.next.bad =
                self.c_dropped_early.val() | self.c_no_vni.val() | self.c_miss_drop.val();
            self.v2.d.next.func = self.c_fn.val();
            self.v2.d.next.length = self.parser.fields.val().length;
            self.v2.d.next.runt = self.c_runt.val();
            self.v2.d.next.spoofed = !self.c_runt.val() & self.c_spoofed.val();
            self.v2.d.next.mtu = self.c_mtu_bad.val();
            self.v2.d.next.too_big = self.parser.fields.val().length > self.max_frame.val();
            self.v2.d.next.mtu_limit = self.c_mtu.val();
            self.v2.d.next.no_vni = self.c_no_vni.val();
            self.v2.d.next.miss_drop = self.c_miss_drop.val();
            self.v2.d.next.miss = self.c_miss.val();
            self.v2.d.next.encap = self.c_encap.val()
                & !self.c_dropped_early.val()
                & !self.c_no_vni.val()
                & !self.c_miss_drop.val();
            self.v2.d.next.dst_mac = self.parser.fields.val().dst_mac;
            self.v2.d.next.csum = self.r1_off.val().csum;
            self.v2.d.next.ip_csum = self.r1_off.val().ip_csum;
            self.v2.d.next.tso = self.r1_off.val().tso;
        }

        // A frame's last beat enters the buffer.
        self.done.next = self.r4_valid.q.val() & self.r4_last.q.val();
        // ---- Tap results: the taps see a beat in r1, so a frame's are ready
        // four cycles after its last beat was taken (the checksum tap's
        // `done`, three after it sees the beat), which is the cycle that
        // beat is in r4 and enters the buffer, since r1-r4 never stall ----
        self.t_now.next.csum_ok = self.csum_tap.csum_ok.val();
        self.t_now.next.ip_ok = self.csum_tap.ip_ok.val();
        self.t_now.next.patch = self.csum_tap.patch.val();
        self.t_now.next.inner_sum = self.csum_tap.inner_sum.val();
        self.tt_ok.d.next = self.tso_tap.tso_ok.val();
        self.tt_seg_l3_max.d.next = self.tso_tap.seg_l3_max.val();
        self.tt_info.d.next = self.tso_tap.info.val();
        self.tso_first.info.next = self.tso_tap.info.val();
        self.t_now.next.tso_ok = self.tt_ok.q.val();
        self.t_now.next.seg_l3_max = self.tt_seg_l3_max.q.val();
        self.t_now.next.tso = self.tt_info.q.val();
        self.t_now.next.tso_first = self.tso_first.first.val();
        self.t_seg_mtu.next = self.t_now.val().seg_l3_max > self.v4.q.val().mtu_limit;
        // Refused requests (docs/tx-offload.md): after runt and spoofed,
        // before everything else; a TSO frame is judged on TSO alone.
        self.o_early.next = self.v4.q.val().runt | self.v4.q.val().spoofed;
        self.o_csum.next = !self.o_early.val()
            & !self.v4.q.val().tso
            & self.v4.q.val().csum
            & !self.t_now.val().csum_ok;
        self.o_ip.next = !self.o_early.val()
            & !self.v4.q.val().tso
            & !self.o_csum.val()
            & self.v4.q.val().ip_csum
            & !self.t_now.val().ip_ok;
        self.o_tso.next = !self.o_early.val() & self.v4.q.val().tso & !self.t_now.val().tso_ok;
        self.o_any.next = self.o_csum.val() | self.o_ip.val() | self.o_tso.val();
        self.o_mtu.next = self.v4.q.val().mtu;
        if self.v4.q.val().tso {
            self.o_mtu.next = self.t_seg_mtu.val();
        }
        self.o_mtu.next =
            !self.o_early.val() & !self.o_any.val() & (self.v4.q.val().too_big | self.o_mtu.val());
        self.o_kill.next = self.o_any.val() | self.o_mtu.val();
        // A TSO frame's sums become the segmenter's if the frame is kept.
        self.o_tso_en.next = self.v4.q.val().tso & !self.v4.q.val().bad & !self.o_kill.val();
        // (The tap's last push for the frame is no later than this cycle,
        // and the next frame's first comes at its 10th beat at the
        // earliest, so what was pushed since the last commit is this
        // frame's.)
        self.sums.commit.next = self.done.val() & self.o_tso_en.val();
        self.sums.rollback.next = self.done.val() & !self.o_tso_en.val();
        // Wire frames the host frame becomes (when kept).
        self.o_tso_info.next = self.t_now.val().tso;
        self.o_segments.next = self.o_tso_info.val().segments;
        self.o_frames.next = 1.into();
        if self.v4.q.val().tso {
            self.o_frames.next = bit_cast::<32, 16>(self.o_segments.val());
        }
        self.o_desc.next = self.desc4.q.val();
        self.o_desc.next.patch = self.t_now.val().patch;
        self.o_desc.next.inner_sum = self.t_now.val().inner_sum;
        self.o_desc.next.tso = self.t_now.val().tso;
        self.o_desc.next.tso_first = self.t_now.val().tso_first;

        // ---- Into the buffer ----
        self.buffer.s_axis.tvalid.next = self.r4_valid.q.val();
        self.buffer.s_axis.tdata.next = self.r4_data.q.val();
        self.buffer.s_axis.tkeep.next = self.r4_keep.q.val();
        self.buffer.s_axis.tlast.next = self.r4_last.q.val();
        self.buffer.s_axis.tuser.next = self.o_desc.val();
        self.buffer.s_bad.next = self.v4.q.val().bad | self.o_kill.val();
        // ---- Egress: segmentation, checksum writes, then encapsulation ----
        StreamSource::<TxDescriptor>::join(&mut self.buffer.m_axis, &mut self.segmenter.s_axis);
        self.segmenter.sum_valid.next = self.sums.valid.val();
        self.segmenter.sum_value.next = self.sums.value.val();
        self.sums.pop.next = self.segmenter.sum_pop.val();
        // (One field per access: rust-hdl's Verilog takes no more.)
        self.seg_ta.next = self.buffer.m_slot_a.val().tso;
        self.seg_tb.next = self.buffer.m_slot_b.val().tso;
        self.seg_tso.next = self.seg_ta.val().en;
        if self.seg_hp.q.val() {
            self.seg_tso.next = self.seg_tb.val().en;
        }
        self.segmenter.s_tso_en.next = self.seg_tso.val();
        if self.buffer.m_axis.tvalid.val()
            & self.buffer.m_axis.tready.val()
            & self.buffer.m_axis.tlast.val()
        {
            self.seg_hp.d.next = !self.seg_hp.q.val();
        }
        StreamSource::<TxDescriptor>::join(&mut self.segmenter.m_axis, &mut self.inserter.s_axis);
        self.inserter.patch.next = self.segmenter.m_axis.tuser.val().patch;
        StreamSource::<TxDescriptor>::join(&mut self.inserter.m_axis, &mut self.encap.s_axis);
        StreamSource::<Bit>::link(&mut self.m_wire, &mut self.encap.m_axis);

        // ---- Accounting, when a frame's last beat enters the buffer ----
        for f in 0..NF {
            if self.done.val() & (self.v4.q.val().func == self.fn_id[f].val()) {
                if self.o_csum.val() {
                    self.cnt_off_csum[f].d.next = self.cnt_off_csum[f].q.val() + 1;
                }
                if self.o_ip.val() {
                    self.cnt_off_ip[f].d.next = self.cnt_off_ip[f].q.val() + 1;
                }
                if self.o_tso.val() {
                    self.cnt_off_tso[f].d.next = self.cnt_off_tso[f].q.val() + 1;
                }
                self.cnt_frames[f].d.next = self.cnt_frames[f].q.val() + 1;
                self.cnt_bytes[f].d.next =
                    self.cnt_bytes[f].q.val() + bit_cast::<32, 16>(self.v4.q.val().length);
                if self.v4.q.val().encap & !self.o_kill.val() {
                    self.cnt_encap[f].d.next = self.cnt_encap[f].q.val() + self.o_frames.val();
                }
                if self.o_tso_en.val() {
                    self.cnt_segments[f].d.next =
                        self.cnt_segments[f].q.val() + self.o_frames.val();
                }
                if self.v4.q.val().runt {
                    self.cnt_runt[f].d.next = self.cnt_runt[f].q.val() + 1;
                }
                if self.v4.q.val().spoofed {
                    self.cnt_spoofed[f].d.next = self.cnt_spoofed[f].q.val() + 1;
                }
                if self.o_mtu.val() {
                    self.cnt_mtu[f].d.next = self.cnt_mtu[f].q.val() + 1;
                }
                if self.v4.q.val().no_vni & !self.o_kill.val() {
                    self.cnt_no_vni[f].d.next = self.cnt_no_vni[f].q.val() + 1;
                }
                if self.v4.q.val().miss_drop & !self.o_kill.val() {
                    self.cnt_miss_drop[f].d.next = self.cnt_miss_drop[f].q.val() + 1;
                }
                if self.v4.q.val().miss & !self.o_kill.val() {
                    self.cnt_misses[f].d.next = self.cnt_misses[f].q.val() + 1;
                }
            }
            self.regs.status[f * 21 + 4].next = self.cnt_frames[f].q.val();
            self.regs.status[f * 21 + 5].next = self.cnt_bytes[f].q.val();
            self.regs.status[f * 21 + 6].next = self.cnt_encap[f].q.val();
            self.regs.status[f * 21 + 7].next = self.cnt_runt[f].q.val();
            self.regs.status[f * 21 + 8].next = self.cnt_spoofed[f].q.val();
            self.regs.status[f * 21 + 9].next = self.cnt_mtu[f].q.val();
            self.regs.status[f * 21 + 10].next = self.cnt_no_vni[f].q.val();
            self.regs.status[f * 21 + 11].next = self.cnt_miss_drop[f].q.val();
            self.regs.status[f * 21 + 12].next = self.cnt_misses[f].q.val();
        }
        self.miss_event.next.kind = self.miss_kind.val();
        self.miss_event.next.vni = self.desc4.q.val().vni;
        self.miss_event.next.mac = self.v4.q.val().dst_mac;
        self.miss_event.next.vtep_ip = 0.into();
        self.miss_event.next.vtep_mac = 0.into();
        // TX misses first; an RX learn event of the same cycle waits one
        // (each side raises at most one event per frame, so one slot does).
        self.tx_push.next = self.done.val() & self.v4.q.val().miss & !self.o_kill.val();
        self.ev_tx.d.next = self.tx_push.val();
        self.ev_tx_rec.d.next = self.miss_event.val();
        self.events.record.next = self.ev_tx_rec.q.val();
        self.events.push.next = self.ev_tx.q.val();
        if self.ev_tx.q.val() {
            if self.rx.learn.val() {
                self.ev_pend.d.next = true;
                self.ev_pend_rec.d.next = self.rx.learn_record.val();
            }
        } else if self.ev_pend.q.val() {
            self.events.record.next = self.ev_pend_rec.q.val();
            self.events.push.next = true;
            self.ev_pend.d.next = self.rx.learn.val();
            self.ev_pend_rec.d.next = self.rx.learn_record.val();
        } else if self.rx.learn.val() {
            self.events.record.next = self.rx.learn_record.val();
            self.events.push.next = true;
        }
        for f in 0..NF {
            self.regs.status[f * 21 + 13].next = self.rx.fn_frames[f].val();
            self.regs.status[f * 21 + 14].next = self.rx.fn_bytes[f].val();
            self.regs.status[f * 21 + 15].next = self.rx.fn_decap[f].val();
            self.regs.status[f * 21 + 16].next = self.rx.fn_csum_drops[f].val();
            self.regs.status[f * 21 + 17].next = self.cnt_off_csum[f].q.val();
            self.regs.status[f * 21 + 18].next = self.cnt_off_ip[f].q.val();
            self.regs.status[f * 21 + 19].next = self.cnt_off_tso[f].q.val();
            self.regs.status[f * 21 + 20].next = self.cnt_segments[f].q.val();
        }

        // ---- Status registers out (computed above) ----
        for i in (G_RX_WIRE_FRAMES + NF * 21)..(G_RX_WIRE_FRAMES + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.counters[0].val();
        }
        for i in (G_RX_WIRE_BYTES + NF * 21)..(G_RX_WIRE_BYTES + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.counters[1].val();
        }
        for i in (G_RX_NON_OVERLAY + NF * 21)..(G_RX_NON_OVERLAY + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.counters[2].val();
        }
        for i in (G_RX_DECAPSULATED + NF * 21)..(G_RX_DECAPSULATED + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.counters[3].val();
        }
        for i in (G_RX_LEARN + NF * 21)..(G_RX_LEARN + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.counters[4].val();
        }
        for i in (G_RX_DROP_TRUNCATED + NF * 21)..(G_RX_DROP_TRUNCATED + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[0].val();
        }
        for i in (G_RX_DROP_IP_LENGTH + NF * 21)..(G_RX_DROP_IP_LENGTH + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[1].val();
        }
        for i in (G_RX_DROP_IP_CHECKSUM + NF * 21)..(G_RX_DROP_IP_CHECKSUM + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[2].val();
        }
        for i in (G_RX_DROP_FRAGMENT + NF * 21)..(G_RX_DROP_FRAGMENT + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[3].val();
        }
        for i in (G_RX_DROP_UDP_LENGTH + NF * 21)..(G_RX_DROP_UDP_LENGTH + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[4].val();
        }
        for i in (G_RX_DROP_UDP_CHECKSUM + NF * 21)..(G_RX_DROP_UDP_CHECKSUM + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[5].val();
        }
        for i in (G_RX_DROP_DST_MAC + NF * 21)..(G_RX_DROP_DST_MAC + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[6].val();
        }
        for i in (G_RX_DROP_VXLAN_FLAGS + NF * 21)..(G_RX_DROP_VXLAN_FLAGS + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[7].val();
        }
        for i in (G_RX_DROP_NO_VNI + NF * 21)..(G_RX_DROP_NO_VNI + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[8].val();
        }
        for i in (G_RX_DROP_DST_IP + NF * 21)..(G_RX_DROP_DST_IP + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[9].val();
        }
        for i in (G_RX_DROP_VLAN + NF * 21)..(G_RX_DROP_VLAN + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.drops[10].val();
        }
        for i in (G_RX_DROP_OVERFLOW + NF * 21)..(G_RX_DROP_OVERFLOW + NF * 21 + 1) {
            self.regs.status[i].next = self.rx.overflow.val();
        }
        for i in (G_MAP_STATUS + NF * 21)..(G_MAP_STATUS + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_status.val();
        }
        for i in (G_MAP_RD_KEY_VNI + NF * 21)..(G_MAP_RD_KEY_VNI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_key_vni.val();
        }
        for i in (G_MAP_RD_KEY_MAC_HI + NF * 21)..(G_MAP_RD_KEY_MAC_HI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_key_mac_hi.val();
        }
        for i in (G_MAP_RD_KEY_MAC_LO + NF * 21)..(G_MAP_RD_KEY_MAC_LO + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_key_mac_lo.val();
        }
        for i in (G_MAP_RD_VTEP_IP + NF * 21)..(G_MAP_RD_VTEP_IP + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_vtep_ip.val();
        }
        for i in (G_MAP_RD_VTEP_MAC_HI + NF * 21)..(G_MAP_RD_VTEP_MAC_HI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_vtep_mac_hi.val();
        }
        for i in (G_MAP_RD_VTEP_MAC_LO + NF * 21)..(G_MAP_RD_VTEP_MAC_LO + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_vtep_mac_lo.val();
        }
        for i in (G_MAP_RD_INDEX + NF * 21)..(G_MAP_RD_INDEX + NF * 21 + 1) {
            self.regs.status[i].next = self.s_map_rd_index.val();
        }
        for i in (G_VNI_STATUS + NF * 21)..(G_VNI_STATUS + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_status.val();
        }
        for i in (G_VNI_RD_KEY + NF * 21)..(G_VNI_RD_KEY + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_key.val();
        }
        for i in (G_VNI_RD_MCAST_IP + NF * 21)..(G_VNI_RD_MCAST_IP + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_mcast_ip.val();
        }
        for i in (G_VNI_RD_GW_IP + NF * 21)..(G_VNI_RD_GW_IP + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_gw_ip.val();
        }
        for i in (G_VNI_RD_GW_MAC_HI + NF * 21)..(G_VNI_RD_GW_MAC_HI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_gw_mac_hi.val();
        }
        for i in (G_VNI_RD_GW_MAC_LO + NF * 21)..(G_VNI_RD_GW_MAC_LO + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_gw_mac_lo.val();
        }
        for i in (G_VNI_RD_POLICY + NF * 21)..(G_VNI_RD_POLICY + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_policy.val();
        }
        for i in (G_VNI_RD_INDEX + NF * 21)..(G_VNI_RD_INDEX + NF * 21 + 1) {
            self.regs.status[i].next = self.s_vni_rd_index.val();
        }
        for i in (G_EVENT_STATUS + NF * 21)..(G_EVENT_STATUS + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_status.val();
        }
        for i in (G_EVENT_LOST + NF * 21)..(G_EVENT_LOST + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_lost.val();
        }
        for i in (G_EVENT_TYPE_VNI + NF * 21)..(G_EVENT_TYPE_VNI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_type_vni.val();
        }
        for i in (G_EVENT_MAC_HI + NF * 21)..(G_EVENT_MAC_HI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_mac_hi.val();
        }
        for i in (G_EVENT_MAC_LO + NF * 21)..(G_EVENT_MAC_LO + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_mac_lo.val();
        }
        for i in (G_EVENT_VTEP_IP + NF * 21)..(G_EVENT_VTEP_IP + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_vtep_ip.val();
        }
        for i in (G_EVENT_VTEP_MAC_HI + NF * 21)..(G_EVENT_VTEP_MAC_HI + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_vtep_mac_hi.val();
        }
        for i in (G_EVENT_VTEP_MAC_LO + NF * 21)..(G_EVENT_VTEP_MAC_LO + NF * 21 + 1) {
            self.regs.status[i].next = self.s_event_vtep_mac_lo.val();
        }

        // ---- VF BARs: read-only copies of each VF's function block ----
        // Mirror k of VF f (function f >= 1) at (f - 1) * 20 + k: MAC_HI,
        // MAC_LO, MTU (stored values), then the 17 counters (statuses).
        for f in 1..NF {
            self.vf_regs.mirror[f * 20 - 20].next = self.regs.value[f * 21].val();
            self.vf_regs.mirror[f * 20 - 19].next = self.regs.value[f * 21 + 1].val();
            self.vf_regs.mirror[f * 20 - 18].next = self.regs.value[f * 21 + 3].val();
            for k in 4..21 {
                self.vf_regs.mirror[f * 20 + k - 21].next = self.regs.status[f * 21 + k].val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small build: PF + 1 VF, 8 entries, 4 VNI records, 512-beat buffer.
    type SmallNic = Nic<2, { nic_register_count(1) }, 20, 8, 3, 4, 2, 9, 10, 7, 8>;

    fn small() -> SmallNic {
        Nic::new(&Build {
            vfs: 1,
            table_entries: 8,
            vni_records: 4,
            event_depth: 16,
            max_frame: 2048,
        })
    }

    #[test]
    fn nic_is_synthesizable() {
        let mut uut = small();
        uut.connect_all();
        yosys_validate("nic", &generate_verilog(&uut)).unwrap();
    }

    #[test]
    #[should_panic(expected = "NF must be VFs + 1")]
    fn nic_refuses_a_build_that_does_not_match_its_parameters() {
        let _ = SmallNic::new(&Build::DEFAULT);
    }
}
