//! The RX offload path: wire frames in, host function streams out.
//!
//! Seed FIG. 8 and FIG. 14; the behaviour is specified in `docs/rx-path.md`.
//!
//! ```text
//!  s_wire ─▶ r1 ─▶ … ─▶ r5 ─▶ PacketFifo (lossy) ─▶ Decapsulator ─┬▶ m_host[0] (PF)
//!    │                   ▲        (store and forward,   (strip outer  ├▶ m_host[1] (VF0)
//!    └▶ DecapValidator (tap)    drops bad frames)     header, copy └▶ ...
//!        classify, validate, │                        to `dest`)
//!        inner checksums     │ descriptor + drop, with the last beat
//!        lookups ───▶ mapping table / VNI records (the NIC's CAM port B)
//! ```
//!
//! The wire is never back-pressured (`s_wire.tready` is always high, as at
//! a MAC's receive interface): every beat moves one register per cycle, and
//! each frame's decision is made at a fixed distance behind its last beat.
//! With the last beat taken in cycle t: the validator's fields are ready in
//! t+3, when the VNI-record result (looked up at aligned beat 1) joins them
//! into the `f2` registers; in t+4 the (VNI, inner source MAC) result
//! (there by t+3, held) joins and the descriptor (destinations, metadata,
//! drop) is registered; in t+5 the last beat leaves `r5` into the buffer
//! together with it, the counters count and a learn event is queued.
//! Frames of every length back to back never collide: each stage is a
//! plain shift by one frame.
//!
//! A host that stops reading holds the decapsulator and fills the buffer;
//! frames that then meet a full buffer are dropped whole and counted
//! (`overflow`), the wire still sees no back-pressure.

use crate::decap_validator::{DecapValidator, RxParsed};
use crate::decapsulator::Decapsulator;
use crate::event_queue::EventRecord;
use crate::packet_fifo::PacketFifo;
use crate::rx_types::{RxDescriptor, RxMeta};
use crate::stream::{StreamSink, StreamSource};
use crate::tx_types::{MapValue, VniRecord};
use rust_hdl::prelude::*;

/// Global RX counters, in `regmap` order (`RX_WIRE_FRAMES` ..
/// `RX_DROP_OVERFLOW`): wire frames, wire bytes, non-overlay, decapsulated,
/// learn, the eleven drop reasons (codes 1-11), overflow.
pub const RX_GLOBAL_COUNTERS: usize = 17;
/// Drop reasons with their own counter (codes 1-11 of `RxParsed::reason`
/// plus the path's own: 9 no_vni, 10 dst_ip, 11 vlan).
pub const RX_DROP_REASONS: usize = 11;

/// Parameters: `NF` functions (PF + VFs); `BAW`/`BAWP1` log2 of the RX
/// buffer in beats and one more.
#[derive(LogicBlock)]
pub struct RxPath<const NF: usize, const BAW: usize, const BAWP1: usize> {
    pub clock: Signal<In, Clock>,
    /// Frames from the MAC (no FCS). Never back-pressured.
    pub s_wire: StreamSink<Bit>,
    /// Frames to the host functions (0 = PF, 1 + i = VF i).
    pub m_host: [StreamSource<RxMeta>; NF],
    // ---- Configuration (from registers) ----
    pub vtep_mac: Signal<In, Bits<48>>,
    pub vtep_ip: Signal<In, Bits<32>>,
    pub udp_port: Signal<In, Bits<16>>,
    pub vlan_enable: Signal<In, Bit>,
    pub vlan_id: Signal<In, Bits<12>>,
    /// `RX_CONFIG`: bit 0 strict VXLAN flags, bit 1 check the source VTEP MAC.
    pub rx_config: Signal<In, Bits<2>>,
    /// Each function's MAC: bytes 0-1 and 2-5.
    pub fn_mac_hi: [Signal<In, Bits<16>>; NF],
    pub fn_mac_lo: [Signal<In, Bits<32>>; NF],
    pub fn_vni: [Signal<In, Bits<24>>; NF],
    pub fn_overlay: [Signal<In, Bit>; NF],
    // ---- Table lookups (the CAMs' second ports; results 2 cycles later) ----
    pub map_lookup: Signal<Out, Bit>,
    pub map_key: Signal<Out, Bits<72>>,
    pub map_valid: Signal<In, Bit>,
    pub map_hit: Signal<In, Bit>,
    pub map_value: Signal<In, MapValue>,
    pub vni_lookup: Signal<Out, Bit>,
    pub vni_key: Signal<Out, Bits<24>>,
    pub vni_valid: Signal<In, Bit>,
    pub vni_hit: Signal<In, Bit>,
    pub vni_value: Signal<In, VniRecord>,
    // ---- Learn events (to the NIC's event queue) ----
    pub learn: Signal<Out, Bit>,
    pub learn_record: Signal<Out, EventRecord>,
    // ---- Counters (wrap at 2^32) ----
    /// Wire frames, wire bytes, non-overlay, decapsulated, learn.
    pub counters: [Signal<Out, Bits<32>>; 5],
    /// One per drop reason, codes 1-11 in order.
    pub drops: [Signal<Out, Bits<32>>; RX_DROP_REASONS],
    /// Frames the full (or too small) buffer dropped.
    pub overflow: Signal<Out, Bits<32>>,
    pub fn_frames: [Signal<Out, Bits<32>>; NF],
    pub fn_bytes: [Signal<Out, Bits<32>>; NF],
    pub fn_decap: [Signal<Out, Bits<32>>; NF],
    pub fn_csum_drops: [Signal<Out, Bits<32>>; NF],
    validator: DecapValidator,
    buffer: PacketFifo<RxDescriptor, BAW, BAWP1, 5, 6>,
    decap: Decapsulator<NF>,
    // ---- Beat pipeline ----
    r1_valid: DFF<Bit>,
    r1_data: DFF<Bits<64>>,
    r1_keep: DFF<Bits<8>>,
    r1_last: DFF<Bit>,
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
    r5_valid: DFF<Bit>,
    r5_data: DFF<Bits<64>>,
    r5_keep: DFF<Bits<8>>,
    r5_last: DFF<Bit>,
    // ---- Lookup results, held until the frame's decision ----
    h_vni_hit: DFF<Bit>,
    h_vni: DFF<VniRecord>,
    h_map_hit: DFF<Bit>,
    h_map: DFF<MapValue>,
    // ---- Stage t+3 → t+4 ----
    f2_valid: DFF<Bit>,
    f2: DFF<RxParsed>,
    f2_reason: DFF<Bits<4>>,
    // ---- Stage t+4 → t+5: the decision ----
    desc: DFF<RxDescriptor>,
    bad: DFF<Bit>,
    g_valid: DFF<Bit>,
    g_length: DFF<Bits<16>>,
    g_reason: DFF<Bits<4>>,
    g_non_overlay: DFF<Bit>,
    g_decap: DFF<Bit>,
    g_learn: DFF<Bit>,
    g_csum_drop: DFF<Bits<16>>,
    g_record: DFF<EventRecord>,
    // ---- Counters ----
    cnt: [DFF<Bits<32>>; 5],
    cnt_drop: [DFF<Bits<32>>; RX_DROP_REASONS],
    cnt_frames: [DFF<Bits<32>>; NF],
    cnt_bytes: [DFF<Bits<32>>; NF],
    cnt_decap: [DFF<Bits<32>>; NF],
    cnt_csum: [DFF<Bits<32>>; NF],
    // ---- Combinational ----
    p: Signal<Local, RxParsed>,
    p_dst_ip: Signal<Local, Bits<32>>,
    vni_mcast: Signal<Local, Bits<32>>,
    reason2: Signal<Local, Bits<4>>,
    q: Signal<Local, RxParsed>,
    q_vni: Signal<Local, Bits<24>>,
    q_dst_ip: Signal<Local, Bits<32>>,
    q_idmac: Signal<Local, Bits<48>>,
    q_idmac_hi: Signal<Local, Bits<16>>,
    q_idmac_lo: Signal<Local, Bits<32>>,
    known: Signal<Local, Bit>,
    multi: Signal<Local, Bit>,
    bad_csum: Signal<Local, Bit>,
    in_vni: Signal<Local, Bits<16>>,
    uc_vf: Signal<Local, Bits<16>>,
    uc_found: Signal<Local, Bit>,
    dest: Signal<Local, Bits<16>>,
    csum_drop: Signal<Local, Bits<16>>,
    ok_overlay: Signal<Local, Bit>,
    non_overlay: Signal<Local, Bit>,
    overflow_total: Signal<Local, Bits<32>>,
    fbit: [Constant<Bits<16>>; NF],
    rcode: [Constant<Bits<4>>; RX_DROP_REASONS],
    learn_kind: Constant<Bits<8>>,
    mcast_top: Constant<Bits<4>>,
}

impl<const NF: usize, const BAW: usize, const BAWP1: usize> Default for RxPath<NF, BAW, BAWP1> {
    fn default() -> Self {
        assert!((1..=16).contains(&NF), "RxPath: 1 to 16 functions");
        Self {
            clock: Default::default(),
            s_wire: Default::default(),
            m_host: std::array::from_fn(|_| Default::default()),
            vtep_mac: Default::default(),
            vtep_ip: Default::default(),
            udp_port: Default::default(),
            vlan_enable: Default::default(),
            vlan_id: Default::default(),
            rx_config: Default::default(),
            fn_mac_hi: std::array::from_fn(|_| Default::default()),
            fn_mac_lo: std::array::from_fn(|_| Default::default()),
            fn_vni: std::array::from_fn(|_| Default::default()),
            fn_overlay: std::array::from_fn(|_| Default::default()),
            map_lookup: Default::default(),
            map_key: Default::default(),
            map_valid: Default::default(),
            map_hit: Default::default(),
            map_value: Default::default(),
            vni_lookup: Default::default(),
            vni_key: Default::default(),
            vni_valid: Default::default(),
            vni_hit: Default::default(),
            vni_value: Default::default(),
            learn: Default::default(),
            learn_record: Default::default(),
            counters: std::array::from_fn(|_| Default::default()),
            drops: std::array::from_fn(|_| Default::default()),
            overflow: Default::default(),
            fn_frames: std::array::from_fn(|_| Default::default()),
            fn_bytes: std::array::from_fn(|_| Default::default()),
            fn_decap: std::array::from_fn(|_| Default::default()),
            fn_csum_drops: std::array::from_fn(|_| Default::default()),
            validator: Default::default(),
            buffer: PacketFifo::with_tail_meta().lossy(),
            decap: Default::default(),
            r1_valid: Default::default(),
            r1_data: Default::default(),
            r1_keep: Default::default(),
            r1_last: Default::default(),
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
            r5_valid: Default::default(),
            r5_data: Default::default(),
            r5_keep: Default::default(),
            r5_last: Default::default(),
            h_vni_hit: Default::default(),
            h_vni: Default::default(),
            h_map_hit: Default::default(),
            h_map: Default::default(),
            f2_valid: Default::default(),
            f2: Default::default(),
            f2_reason: Default::default(),
            desc: Default::default(),
            bad: Default::default(),
            g_valid: Default::default(),
            g_length: Default::default(),
            g_reason: Default::default(),
            g_non_overlay: Default::default(),
            g_decap: Default::default(),
            g_learn: Default::default(),
            g_csum_drop: Default::default(),
            g_record: Default::default(),
            cnt: std::array::from_fn(|_| Default::default()),
            cnt_drop: std::array::from_fn(|_| Default::default()),
            cnt_frames: std::array::from_fn(|_| Default::default()),
            cnt_bytes: std::array::from_fn(|_| Default::default()),
            cnt_decap: std::array::from_fn(|_| Default::default()),
            cnt_csum: std::array::from_fn(|_| Default::default()),
            p: Default::default(),
            p_dst_ip: Default::default(),
            vni_mcast: Default::default(),
            reason2: Default::default(),
            q: Default::default(),
            q_vni: Default::default(),
            q_dst_ip: Default::default(),
            q_idmac: Default::default(),
            q_idmac_hi: Default::default(),
            q_idmac_lo: Default::default(),
            known: Default::default(),
            multi: Default::default(),
            bad_csum: Default::default(),
            in_vni: Default::default(),
            uc_vf: Default::default(),
            uc_found: Default::default(),
            dest: Default::default(),
            csum_drop: Default::default(),
            ok_overlay: Default::default(),
            non_overlay: Default::default(),
            overflow_total: Default::default(),
            fbit: std::array::from_fn(|f| Constant::new((1u64 << f).to_bits())),
            rcode: std::array::from_fn(|i| Constant::new(((i + 1) as u64).to_bits())),
            learn_kind: Constant::new(2.into()),
            mcast_top: Constant::new(0xe.into()),
        }
    }
}

impl<const NF: usize, const BAW: usize, const BAWP1: usize> RxPath<NF, BAW, BAWP1> {
    /// RAM read/write collisions in simulation (must stay zero).
    pub fn ram_collisions(&self) -> u64 {
        self.buffer.ram_collisions()
    }
}

impl<const NF: usize, const BAW: usize, const BAWP1: usize> Logic for RxPath<NF, BAW, BAWP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            r1_valid,
            r1_data,
            r1_keep,
            r1_last,
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
            r5_valid,
            r5_data,
            r5_keep,
            r5_last,
            h_vni_hit,
            h_vni,
            h_map_hit,
            h_map,
            f2_valid,
            f2,
            f2_reason,
            desc,
            bad,
            g_valid,
            g_length,
            g_reason,
            g_non_overlay,
            g_decap,
            g_learn,
            g_csum_drop,
            g_record
        );
        clock!(self, clock, validator, buffer, decap);
        for i in 0..5 {
            self.cnt[i].clock.next = self.clock.val();
            self.cnt[i].d.next = self.cnt[i].q.val();
            self.counters[i].next = self.cnt[i].q.val();
        }
        for i in 0..RX_DROP_REASONS {
            self.cnt_drop[i].clock.next = self.clock.val();
            self.cnt_drop[i].d.next = self.cnt_drop[i].q.val();
            self.drops[i].next = self.cnt_drop[i].q.val();
        }
        for f in 0..NF {
            self.cnt_frames[f].clock.next = self.clock.val();
            self.cnt_frames[f].d.next = self.cnt_frames[f].q.val();
            self.cnt_bytes[f].clock.next = self.clock.val();
            self.cnt_bytes[f].d.next = self.cnt_bytes[f].q.val();
            self.cnt_decap[f].clock.next = self.clock.val();
            self.cnt_decap[f].d.next = self.cnt_decap[f].q.val();
            self.cnt_csum[f].clock.next = self.clock.val();
            self.cnt_csum[f].d.next = self.cnt_csum[f].q.val();
            self.fn_frames[f].next = self.cnt_frames[f].q.val();
            self.fn_bytes[f].next = self.cnt_bytes[f].q.val();
            self.fn_decap[f].next = self.cnt_decap[f].q.val();
            self.fn_csum_drops[f].next = self.cnt_csum[f].q.val();
        }

        // ---- Wire in: never back-pressured; the tap sees every beat ----
        self.s_wire.tready.next = true;
        self.validator.tdata.next = self.s_wire.tdata.val();
        self.validator.tkeep.next = self.s_wire.tkeep.val();
        self.validator.tlast.next = self.s_wire.tlast.val();
        self.validator.beat.next = self.s_wire.tvalid.val();
        self.validator.vtep_mac.next = self.vtep_mac.val();
        self.validator.udp_port.next = self.udp_port.val();
        self.validator.vlan_enable.next = self.vlan_enable.val();
        self.validator.vlan_id.next = self.vlan_id.val();
        self.validator.strict.next = self.rx_config.val().get_bit(0);
        self.r1_valid.d.next = self.s_wire.tvalid.val();
        self.r1_data.d.next = self.s_wire.tdata.val();
        self.r1_keep.d.next = self.s_wire.tkeep.val();
        self.r1_last.d.next = self.s_wire.tlast.val();
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
        self.r5_valid.d.next = self.r4_valid.q.val();
        self.r5_data.d.next = self.r4_data.q.val();
        self.r5_keep.d.next = self.r4_keep.q.val();
        self.r5_last.d.next = self.r4_last.q.val();

        // ---- Lookups: issued by the tap, results held for the decision ----
        self.map_lookup.next = self.validator.map_lookup.val();
        self.map_key.next = self.validator.map_key.val();
        self.vni_lookup.next = self.validator.vni_lookup.val();
        self.vni_key.next = self.validator.vni_key.val();
        if self.vni_valid.val() {
            self.h_vni_hit.d.next = self.vni_hit.val();
            self.h_vni.d.next = self.vni_value.val();
        }
        if self.map_valid.val() {
            self.h_map_hit.d.next = self.map_hit.val();
            self.h_map.d.next = self.map_value.val();
        }

        // ---- t+3: the VNI-record checks (reasons 9-11) ----
        self.p.next = self.validator.fields.val();
        self.p_dst_ip.next = self.p.val().dst_ip;
        self.vni_mcast.next = self.h_vni.q.val().mcast_ip;
        self.reason2.next = self.p.val().reason;
        if self.p.val().overlay & (self.p.val().reason == 0) {
            if !self.h_vni_hit.q.val() {
                self.reason2.next = 9.into();
            } else if (self.p_dst_ip.val() != self.vtep_ip.val())
                & (self.p_dst_ip.val() != self.vni_mcast.val())
            {
                self.reason2.next = 10.into();
            } else if self.p.val().vlan_bad {
                self.reason2.next = 11.into();
            }
        }
        self.f2_valid.d.next = self.validator.done.val();
        if self.validator.done.val() {
            self.f2.d.next = self.p.val();
            self.f2_reason.d.next = self.reason2.val();
        }

        // ---- t+4: source check, destinations, the descriptor ----
        self.q.next = self.f2.q.val();
        self.q_vni.next = self.q.val().vni;
        self.q_dst_ip.next = self.q.val().dst_ip;
        self.q_idmac.next = self.q.val().inner_dst_mac;
        self.q_idmac_hi.next = self.q_idmac.val().get_bits::<16>(32);
        self.q_idmac_lo.next = self.q_idmac.val().get_bits::<32>(0);
        self.known.next = self.h_map_hit.q.val()
            & (self.h_map.q.val().vtep_ip == self.q.val().src_ip)
            & (!self.rx_config.val().get_bit(1)
                | (self.h_map.q.val().vtep_mac == self.q.val().src_mac));
        self.multi.next = (self.q_dst_ip.val().get_bits::<4>(28) == self.mcast_top.val())
            | self.q_idmac.val().get_bit(40);
        self.bad_csum.next = (self.q.val().ip_csum == 2) | (self.q.val().l4_csum == 2);
        self.in_vni.next = 0.into();
        self.uc_vf.next = 0.into();
        self.uc_found.next = false;
        for f in 1..NF {
            if self.fn_overlay[f].val() & (self.fn_vni[f].val() == self.q_vni.val()) {
                self.in_vni.next = self.in_vni.val() | self.fbit[f].val();
                if !self.uc_found.val()
                    & (self.fn_mac_hi[f].val() == self.q_idmac_hi.val())
                    & (self.fn_mac_lo[f].val() == self.q_idmac_lo.val())
                {
                    self.uc_found.next = true;
                    self.uc_vf.next = self.fbit[f].val();
                }
            }
        }
        self.ok_overlay.next = self.q.val().overlay & (self.f2_reason.q.val() == 0);
        self.non_overlay.next = !self.q.val().overlay & (self.f2_reason.q.val() == 0);
        self.dest.next = 0.into();
        self.csum_drop.next = 0.into();
        if self.non_overlay.val() {
            self.dest.next = 1.into();
        } else if self.ok_overlay.val() {
            if !self.known.val() {
                self.dest.next = 1.into();
            } else if self.multi.val() {
                self.dest.next = 1.into();
                if self.bad_csum.val() {
                    self.csum_drop.next = self.in_vni.val();
                } else {
                    self.dest.next = self.in_vni.val() | self.fbit[0].val();
                }
            } else if self.uc_found.val() {
                if self.bad_csum.val() {
                    self.csum_drop.next = self.uc_vf.val();
                } else {
                    self.dest.next = self.uc_vf.val();
                }
            } else {
                self.dest.next = 1.into();
            }
        }
        if self.f2_valid.q.val() {
            self.desc.d.next.decap = self.ok_overlay.val();
            self.desc.d.next.vni = 0.into();
            self.desc.d.next.src_vtep_ip = 0.into();
            self.desc.d.next.vlan_valid = false;
            self.desc.d.next.vlan = 0.into();
            self.desc.d.next.ip_csum = 0.into();
            self.desc.d.next.l4_csum = 0.into();
            self.desc.d.next.learn = false;
            self.desc.d.next.strip = 0.into();
            if self.ok_overlay.val() {
                self.desc.d.next.vni = self.q_vni.val();
                self.desc.d.next.src_vtep_ip = self.q.val().src_ip;
                self.desc.d.next.vlan_valid = self.q.val().vlan_valid;
                self.desc.d.next.vlan = self.q.val().vlan;
                self.desc.d.next.ip_csum = self.q.val().ip_csum;
                self.desc.d.next.l4_csum = self.q.val().l4_csum;
                self.desc.d.next.learn = !self.known.val();
                self.desc.d.next.strip = self.q.val().strip;
            }
            self.desc.d.next.dest = self.dest.val();
            self.bad.d.next = self.dest.val() == 0;
            self.g_length.d.next = self.q.val().length;
            self.g_reason.d.next = self.f2_reason.q.val();
            self.g_non_overlay.d.next = self.non_overlay.val();
            self.g_decap.d.next = self.ok_overlay.val();
            self.g_learn.d.next = self.ok_overlay.val() & !self.known.val();
            self.g_csum_drop.d.next = self.csum_drop.val();
            self.g_record.d.next.kind = self.learn_kind.val();
            self.g_record.d.next.vni = self.q_vni.val();
            self.g_record.d.next.mac = self.q.val().inner_src_mac;
            self.g_record.d.next.vtep_ip = self.q.val().src_ip;
            self.g_record.d.next.vtep_mac = self.q.val().src_mac;
        }
        self.g_valid.d.next = self.f2_valid.q.val();

        // ---- t+5: into the buffer with the last beat; count; learn ----
        self.buffer.s_axis.tvalid.next = self.r5_valid.q.val();
        self.buffer.s_axis.tdata.next = self.r5_data.q.val();
        self.buffer.s_axis.tkeep.next = self.r5_keep.q.val();
        self.buffer.s_axis.tlast.next = self.r5_last.q.val();
        self.buffer.s_axis.tuser.next = self.desc.q.val();
        self.buffer.s_bad.next = self.bad.q.val();
        StreamSource::<RxDescriptor>::join(&mut self.buffer.m_axis, &mut self.decap.s_axis);
        for f in 0..NF {
            StreamSource::<RxMeta>::link(&mut self.m_host[f], &mut self.decap.m_host[f]);
        }
        self.learn.next = self.g_valid.q.val() & self.g_learn.q.val();
        self.learn_record.next = self.g_record.q.val();
        if self.g_valid.q.val() {
            self.cnt[0].d.next = self.cnt[0].q.val() + 1;
            self.cnt[1].d.next = self.cnt[1].q.val() + bit_cast::<32, 16>(self.g_length.q.val());
            if self.g_non_overlay.q.val() {
                self.cnt[2].d.next = self.cnt[2].q.val() + 1;
            }
            if self.g_decap.q.val() {
                self.cnt[3].d.next = self.cnt[3].q.val() + 1;
            }
            if self.g_learn.q.val() {
                self.cnt[4].d.next = self.cnt[4].q.val() + 1;
            }
        }
        for i in 0..RX_DROP_REASONS {
            if self.g_valid.q.val() & (self.g_reason.q.val() == self.rcode[i].val()) {
                self.cnt_drop[i].d.next = self.cnt_drop[i].q.val() + 1;
            }
        }
        self.overflow_total.next =
            self.buffer.dropped_overflow.val() + self.buffer.dropped_oversize.val();
        self.overflow.next = self.overflow_total.val();
        for f in 0..NF {
            if self.g_valid.q.val() & ((self.g_csum_drop.q.val() & self.fbit[f].val()) != 0) {
                self.cnt_csum[f].d.next = self.cnt_csum[f].q.val() + 1;
            }
            if self.decap.frame_done.val()
                & ((self.decap.frame_dest.val() & self.fbit[f].val()) != 0)
            {
                self.cnt_frames[f].d.next = self.cnt_frames[f].q.val() + 1;
                self.cnt_bytes[f].d.next =
                    self.cnt_bytes[f].q.val() + bit_cast::<32, 16>(self.decap.frame_length.val());
                if self.decap.frame_decap.val() {
                    self.cnt_decap[f].d.next = self.cnt_decap[f].q.val() + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_path_is_synthesizable() {
        let mut uut = RxPath::<2, 8, 9>::default();
        uut.connect_all();
        yosys_validate("rx_path", &generate_verilog(&uut)).unwrap();
    }
}
