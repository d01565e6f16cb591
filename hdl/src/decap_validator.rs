//! Decapsulation validator: a tap on the wire stream that classifies each
//! frame and checks its outer headers (seed FIG. 14; `docs/rx-path.md`
//! sections 1, 2 and 4), without ever holding the stream up.
//!
//! Two stages watch the beats as they are taken:
//!
//! - the *raw* stage keeps the first five beats (outer Ethernet, 802.1Q,
//!   IPv4 without options all sit in bytes 0-39), counts the length and
//!   sums the outer IPv4 header over `[L3, L4)` word by word, so IPv4
//!   options of any length are covered;
//! - the *aligned* stage rebuilds the stream from `L4` on, shifted by
//!   `L4 mod 8` (always 2 or 6: `L4 = 14 or 18 + 4*IHL`) and one beat late,
//!   so the UDP, VXLAN and inner headers sit at fixed lanes of fixed
//!   aligned beats whatever the outer options. It keeps aligned beats 0-6,
//!   sums the outer UDP datagram, the inner IPv4 header and the inner TCP/
//!   UDP segment, and issues the two table lookups: the VNI record at
//!   aligned beat 1 and (VNI, inner source MAC) at aligned beat 3.
//!
//! Every field is a big-endian word at an even offset, so absent bytes
//! (zeroed as they come in) never disturb a ones'-complement sum.
//!
//! ```text
//!  rel (from L4) | aligned beat | field
//!  --------------+--------------+--------------------------------------------
//!   0-7          | 0            | UDP: src port, dst port, length, checksum
//!   8-15         | 1            | VXLAN: flags, reserved, VNI, reserved
//!  16-27         | 2, 3         | inner dst MAC, inner src MAC
//!  28-29         | 3            | inner ethertype or 802.1Q TPID
//!  30 (34)       | 3 (4)        | inner IPv4 header (after an inner tag)
//! ```
//!
//! Timing, for a frame whose last beat is taken in cycle t: the raw
//! results are registered into `f1_*` at the end of t+1 (the cycle the
//! aligned stage flushes the frame's tail, whose inner sums are added a
//! cycle later), the decision from those registers into `g_*` at the end of
//! t+2, and in cycle t+3 `done` is high with `fields`, the inner checksum
//! verdicts judged in that cycle from the finished sums. A next frame
//! cannot disturb any of these before they are read, even frames of one
//! beat every cycle: F1 and G are each a plain shift by one frame, and the
//! accumulators restart only at a next frame's aligned beat 0, five beats
//! in at the earliest. The VNI-record lookup is issued at least 2 cycles
//! before t+1; the (VNI, source MAC) lookup at t+1 at the latest, so its
//! result is there by t+3.

use rust_hdl::prelude::*;

/// One frame's classification and the fields the RX path decides with.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct RxParsed {
    /// Frame length in bytes (wraps past 65535; the RX buffer drops such frames).
    pub length: Bits<16>,
    /// UDP to the VXLAN port (an overlay frame: validated, not passed on).
    pub overlay: Bit,
    /// 0 none, else the drop reason: 1 truncated, 2 ip_length, 3 ip_checksum,
    /// 4 fragment, 5 udp_length, 6 udp_checksum, 7 dst_mac, 8 vxlan_flags
    /// (9-11, no_vni/dst_ip/vlan, need the VNI record: the RX path's).
    pub reason: Bits<4>,
    /// The outer 802.1Q tag does not match the local VTEP's.
    pub vlan_bad: Bit,
    pub vlan_valid: Bit,
    pub vlan: Bits<12>,
    pub vni: Bits<24>,
    /// Outer source and destination IPv4 addresses.
    pub src_ip: Bits<32>,
    pub dst_ip: Bits<32>,
    /// Outer source MAC.
    pub src_mac: Bits<48>,
    pub inner_dst_mac: Bits<48>,
    pub inner_src_mac: Bits<48>,
    /// Inner checksum status (`rx_types::csum`).
    pub ip_csum: Bits<2>,
    pub l4_csum: Bits<2>,
    /// Outer header bytes (L4 + 16: 50, 54 with a tag, more with options).
    pub strip: Bits<8>,
}

#[derive(LogicBlock)]
pub struct DecapValidator {
    pub clock: Signal<In, Clock>,
    /// The observed stream (lane 0 = first byte) and `beat`: a beat is taken.
    pub tdata: Signal<In, Bits<64>>,
    pub tkeep: Signal<In, Bits<8>>,
    pub tlast: Signal<In, Bit>,
    pub beat: Signal<In, Bit>,
    // ---- Configuration (from registers) ----
    pub vtep_mac: Signal<In, Bits<48>>,
    pub udp_port: Signal<In, Bits<16>>,
    pub vlan_enable: Signal<In, Bit>,
    pub vlan_id: Signal<In, Bits<12>>,
    /// Strict VXLAN flags: reserved bits set are a drop.
    pub strict: Signal<In, Bit>,
    // ---- Lookups (keys valid with the pulse) ----
    pub vni_lookup: Signal<Out, Bit>,
    pub vni_key: Signal<Out, Bits<24>>,
    pub map_lookup: Signal<Out, Bit>,
    /// VNI in 71:48, inner source MAC in 47:0 (the mapping table's key).
    pub map_key: Signal<Out, Bits<72>>,
    // ---- Results ----
    /// High in the third cycle after a frame's last beat, with `fields`.
    pub done: Signal<Out, Bit>,
    pub fields: Signal<Out, RxParsed>,
    bi: DFF<Bits<16>>,
    in_frame: DFF<Bit>,
    len_r: DFF<Bits<16>>,
    /// `len_r >= 18` (so a TPID at bytes 12-13 is a tag), registered with it.
    len_ge18: DFF<Bit>,
    ended: DFF<Bit>,
    raw0: DFF<Bits<64>>,
    raw1: DFF<Bits<64>>,
    raw2: DFF<Bits<64>>,
    raw3: DFF<Bits<64>>,
    raw4: DFF<Bits<64>>,
    tpid1: DFF<Bit>,
    ipacc: DFF<Bits<32>>,
    pr_data: DFF<Bits<64>>,
    pr_last: DFF<Bit>,
    pr_valid: DFF<Bit>,
    pr_idx: DFF<Bits<16>>,
    udp: DFF<Bits<64>>,
    vxl: DFF<Bits<64>>,
    ia2: DFF<Bits<64>>,
    ia3: DFF<Bits<64>>,
    /// The word at rel 30, held from aligned beat 3 to beat 4: it is the
    /// inner IPv4 header's first unless beat 3 itself carries an inner tag,
    /// and beat 4 knows that from `ia3` rather than from its own bytes.
    w30: DFF<Bits<16>>,
    /// `L4 / 8` and `L4 mod 8 == 6`, registered: L4 is known from raw
    /// beat 3's cycle on and the aligned stage starts with raw beat 5.
    j4_r: DFF<Bits<16>>,
    /// Byte 14's word, held from raw beat 1 to beat 2: it is the outer
    /// IPv4 header's first unless beat 1's own bytes are a tag.
    w14: DFF<Bits<16>>,
    /// For the next raw beat, worked out while this one moves: which of its
    /// words are outer IPv4 header, and whether it is beat 1 or 2.
    rm: DFF<Bits<4>>,
    at1: DFF<Bit>,
    at2: DFF<Bit>,
    rm_n: Signal<Local, Bits<4>>,
    nbase: Signal<Local, Bits<16>>,
    l3_after: Signal<Local, Bits<16>>,
    bit4: [Constant<Bits<4>>; 4],
    /// The inner frame is tagged (from aligned beat 3's own bytes), and the
    /// inner L4 offset and end, registered: they are known from beat 5's
    /// cycle and used from beat 6 on (a checked inner header has
    /// `4*IHL >= 20`, so its L4 part starts at rel 50 or later).
    ivlan_r: DFF<Bit>,
    /// `pr_idx - L4/8` and `pr_idx >= L4/8`, loaded with `pr_idx`.
    arel_r: DFF<Bits<16>>,
    age_r: DFF<Bit>,
    il4_r: DFF<Bits<16>>,
    iend_r: DFF<Bits<16>>,
    s6_r: DFF<Bit>,
    ia4: DFF<Bits<64>>,
    ia5: DFF<Bits<64>>,
    ia6: DFF<Bits<64>>,
    iucsum: DFF<Bits<16>>,
    uacc: DFF<Bits<32>>,
    iacc: DFF<Bits<32>>,
    lacc: DFF<Bits<32>>,
    /// The aligned beat's inner-header and inner-L4 words, masked, four
    /// 16-bit lanes each, registered: the masks' compares and the sums'
    /// adders are a cycle each, and the accumulators lag the aligned
    /// stage by one (`b_*`: that beat's `a_in`, first and fourth beat).
    b_iwords: DFF<Bits<64>>,
    b_lwords: DFF<Bits<64>>,
    b_in: DFF<Bit>,
    b_first: DFF<Bit>,
    b_at4: DFF<Bit>,
    /// The decision, registered in the cycle after F1 (t+2) but for the
    /// two inner checksums, which need the accumulators' last add: those
    /// are judged in t+3 from `iacc`, `lacc` and the pseudo-header's
    /// folded sum.
    g_valid: DFF<Bit>,
    g_out: DFF<RxParsed>,
    g_ip_checked: DFF<Bit>,
    g_l4_checked: DFF<Bit>,
    g_pl: DFF<Bits<32>>,
    f1_valid: DFF<Bit>,
    f1_len: DFF<Bits<16>>,
    f1_vlan: DFF<Bit>,
    f1_tci: DFF<Bits<16>>,
    f1_etype: DFF<Bits<16>>,
    f1_verihl: DFF<Bits<8>>,
    f1_frag: DFF<Bits<16>>,
    f1_proto: DFF<Bits<8>>,
    f1_sip: DFF<Bits<32>>,
    f1_dip: DFF<Bits<32>>,
    f1_dmac: DFF<Bits<48>>,
    f1_smac: DFF<Bits<48>>,
    f1_ipsum_ok: DFF<Bit>,
    /// Worked out from the raw stage while F1 is loaded, so the decision
    /// cycle starts from registers: L4, the inner length, the length
    /// checks and the checksums' pseudo-header parts (the inner one for
    /// either inner tagging).
    f1_l4d: DFF<Bits<16>>,
    f1_ilen: DFF<Bits<16>>,
    f1_lt14: DFF<Bit>,
    f1_lt_l3: DFF<Bit>,
    f1_lt_l4: DFF<Bit>,
    f1_lt_udp: DFF<Bit>,
    f1_lt_vxlan: DFF<Bit>,
    f1_total_bad: DFF<Bit>,
    f1_ulen_bad: DFF<Bit>,
    f1_pu: DFF<Bits<32>>,
    f1_pl0: DFF<Bits<32>>,
    f1_pl1: DFF<Bits<32>>,
    /// L4, the inner length and the IPv4 length `len - L3` for an
    /// untagged (`u`) and a tagged (`t`) outer frame, both worked out and
    /// then picked: the tag's verdict then drives only the picks, not
    /// the adders and compares in front of them.
    e_l4u: Signal<Local, Bits<16>>,
    e_l4t: Signal<Local, Bits<16>>,
    e_ilenu: Signal<Local, Bits<16>>,
    e_ilent: Signal<Local, Bits<16>>,
    e_l3lenu: Signal<Local, Bits<16>>,
    e_l3lent: Signal<Local, Bits<16>>,
    e_ulen: Signal<Local, Bits<16>>,
    e_iihl0: Signal<Local, Bits<16>>,
    e_iihl1: Signal<Local, Bits<16>>,
    e_vlan: Signal<Local, Bit>,
    e_sip: Signal<Local, Bits<32>>,
    e_dip: Signal<Local, Bits<32>>,
    e_pu: Signal<Local, Bits<32>>,
    e_pl0: Signal<Local, Bits<32>>,
    e_pl1: Signal<Local, Bits<32>>,
    bt: Signal<Local, Bits<64>>,
    kmask: Signal<Local, Bits<64>>,
    cur_idx: Signal<Local, Bits<16>>,
    nbytes: Signal<Local, Bits<16>>,
    len_now: Signal<Local, Bits<16>>,
    vlan_now: Signal<Local, Bit>,
    ihl_byte: Signal<Local, Bits<8>>,
    l4_c: Signal<Local, Bits<16>>,
    j4: Signal<Local, Bits<16>>,
    s6: Signal<Local, Bit>,
    rw0: Signal<Local, Bits<16>>,
    rw1: Signal<Local, Bits<16>>,
    rw2: Signal<Local, Bits<16>>,
    rw3: Signal<Local, Bits<16>>,
    rbase: Signal<Local, Bits<16>>,
    rsum: Signal<Local, Bits<32>>,
    /// Each word of the beat for each sum, or zero: the sums are trees of
    /// these (conditional adds in a row were 62 logic levels on the ECP5).
    rterm: [Signal<Local, Bits<32>>; 4],
    iterm: [Signal<Local, Bits<32>>; 4],
    lterm: [Signal<Local, Bits<32>>; 4],
    emit_mid: Signal<Local, Bit>,
    emit_flush: Signal<Local, Bit>,
    a_valid: Signal<Local, Bit>,
    ab: Signal<Local, Bits<64>>,
    cur_part: Signal<Local, Bits<64>>,
    arel: Signal<Local, Bits<16>>,
    a_in: Signal<Local, Bit>,
    abase: Signal<Local, Bits<16>>,
    aw0: Signal<Local, Bits<16>>,
    aw1: Signal<Local, Bits<16>>,
    aw2: Signal<Local, Bits<16>>,
    aw3: Signal<Local, Bits<16>>,
    usum: Signal<Local, Bits<32>>,
    isum: Signal<Local, Bits<32>>,
    lsum: Signal<Local, Bits<32>>,
    lw0: Signal<Local, Bits<16>>,
    lw1: Signal<Local, Bits<16>>,
    lw2: Signal<Local, Bits<16>>,
    lw3: Signal<Local, Bits<16>>,
    high_byte: Constant<Bits<16>>,
    ivlan_c: Signal<Local, Bit>,
    irel3_c: Signal<Local, Bits<16>>,
    iihl_byte: Signal<Local, Bits<8>>,
    il4_c: Signal<Local, Bits<16>>,
    itotal_c: Signal<Local, Bits<16>>,
    iend_c: Signal<Local, Bits<16>>,
    ucs_pos: Signal<Local, Bits<16>>,
    ipsum_fold1: Signal<Local, Bits<32>>,
    ipsum_fold2: Signal<Local, Bits<32>>,
    d_ihl: Signal<Local, Bits<16>>,
    d_l4: Signal<Local, Bits<16>>,
    d_ipv4eth: Signal<Local, Bit>,
    d_verok: Signal<Local, Bit>,
    d_udp_dport: Signal<Local, Bits<16>>,
    d_udp_csum: Signal<Local, Bits<16>>,
    d_flags: Signal<Local, Bits<8>>,
    d_rsv1: Signal<Local, Bits<24>>,
    d_rsv2: Signal<Local, Bits<8>>,
    d_vni: Signal<Local, Bits<24>>,
    d_idmac: Signal<Local, Bits<48>>,
    d_ismac: Signal<Local, Bits<48>>,
    d_ilen: Signal<Local, Bits<16>>,
    d_ivlan: Signal<Local, Bit>,
    /// The inner header's fields and checks, untagged (0) and tagged (1).
    d_ietype: [Signal<Local, Bits<16>>; 2],
    d_iverihl: [Signal<Local, Bits<8>>; 2],
    d_iihl: [Signal<Local, Bits<16>>; 2],
    d_itotal: [Signal<Local, Bits<16>>; 2],
    d_ifrag: [Signal<Local, Bits<16>>; 2],
    d_iproto: [Signal<Local, Bits<8>>; 2],
    d_ip_ok: [Signal<Local, Bit>; 2],
    d_l4_ok: [Signal<Local, Bit>; 2],
    d_ilen17: Signal<Local, Bits<17>>,
    /// The inner L3's rel position, untagged and tagged.
    irel3_k: [Constant<Bits<16>>; 2],
    d_u_ok: Signal<Local, Bit>,
    d_pseudo_l: Signal<Local, Bits<32>>,
    d_l1: Signal<Local, Bits<32>>,
    d_l_ok: Signal<Local, Bit>,
    d_ip_checked: Signal<Local, Bit>,
    d_l4_checked: Signal<Local, Bit>,
    d_overlay: Signal<Local, Bit>,
    d_reason: Signal<Local, Bits<4>>,
    d_strict_bad: Signal<Local, Bit>,
    out: Signal<Local, RxParsed>,
    res: Signal<Local, RxParsed>,
    d_i1: Signal<Local, Bits<32>>,
    d_ifold: Signal<Local, Bits<32>>,
    d_i_ok: Signal<Local, Bit>,
    lane_be: [Constant<Bits<64>>; 8],
    tpid: Constant<Bits<16>>,
    low16: Constant<Bits<32>>,
    ethertype_ipv4: Constant<Bits<16>>,
    frag_mask: Constant<Bits<16>>,
    offset_mask: Constant<Bits<16>>,
    mf_bit: Constant<Bits<16>>,
    flags_other: Constant<Bits<8>>,
}

impl Default for DecapValidator {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            tdata: Default::default(),
            tkeep: Default::default(),
            tlast: Default::default(),
            beat: Default::default(),
            vtep_mac: Default::default(),
            udp_port: Default::default(),
            vlan_enable: Default::default(),
            vlan_id: Default::default(),
            strict: Default::default(),
            vni_lookup: Default::default(),
            vni_key: Default::default(),
            map_lookup: Default::default(),
            map_key: Default::default(),
            done: Default::default(),
            fields: Default::default(),
            bi: Default::default(),
            in_frame: Default::default(),
            len_r: Default::default(),
            len_ge18: Default::default(),
            ended: Default::default(),
            raw0: Default::default(),
            raw1: Default::default(),
            raw2: Default::default(),
            raw3: Default::default(),
            raw4: Default::default(),
            tpid1: Default::default(),
            ipacc: Default::default(),
            pr_data: Default::default(),
            pr_last: Default::default(),
            pr_valid: Default::default(),
            pr_idx: Default::default(),
            udp: Default::default(),
            vxl: Default::default(),
            ia2: Default::default(),
            ia3: Default::default(),
            w30: Default::default(),
            j4_r: Default::default(),
            w14: Default::default(),
            rm: Default::default(),
            at1: Default::default(),
            at2: Default::default(),
            rm_n: Default::default(),
            nbase: Default::default(),
            l3_after: Default::default(),
            bit4: std::array::from_fn(|i| Constant::new((1u64 << i).to_bits())),
            ivlan_r: Default::default(),
            arel_r: Default::default(),
            age_r: Default::default(),
            il4_r: Default::default(),
            iend_r: Default::default(),
            s6_r: Default::default(),
            ia4: Default::default(),
            ia5: Default::default(),
            ia6: Default::default(),
            iucsum: Default::default(),
            uacc: Default::default(),
            iacc: Default::default(),
            lacc: Default::default(),
            b_iwords: Default::default(),
            b_lwords: Default::default(),
            b_in: Default::default(),
            b_first: Default::default(),
            b_at4: Default::default(),
            g_valid: Default::default(),
            g_out: Default::default(),
            g_ip_checked: Default::default(),
            g_l4_checked: Default::default(),
            g_pl: Default::default(),
            f1_valid: Default::default(),
            f1_len: Default::default(),
            f1_vlan: Default::default(),
            f1_tci: Default::default(),
            f1_etype: Default::default(),
            f1_verihl: Default::default(),
            f1_frag: Default::default(),
            f1_proto: Default::default(),
            f1_sip: Default::default(),
            f1_dip: Default::default(),
            f1_dmac: Default::default(),
            f1_smac: Default::default(),
            f1_ipsum_ok: Default::default(),
            f1_l4d: Default::default(),
            f1_ilen: Default::default(),
            f1_lt14: Default::default(),
            f1_lt_l3: Default::default(),
            f1_lt_l4: Default::default(),
            f1_lt_udp: Default::default(),
            f1_lt_vxlan: Default::default(),
            f1_total_bad: Default::default(),
            f1_ulen_bad: Default::default(),
            f1_pu: Default::default(),
            f1_pl0: Default::default(),
            f1_pl1: Default::default(),
            e_ulen: Default::default(),
            e_l4u: Default::default(),
            e_l4t: Default::default(),
            e_ilenu: Default::default(),
            e_ilent: Default::default(),
            e_l3lenu: Default::default(),
            e_l3lent: Default::default(),
            e_iihl0: Default::default(),
            e_iihl1: Default::default(),
            e_vlan: Default::default(),
            e_sip: Default::default(),
            e_dip: Default::default(),
            e_pu: Default::default(),
            e_pl0: Default::default(),
            e_pl1: Default::default(),
            bt: Default::default(),
            kmask: Default::default(),
            cur_idx: Default::default(),
            nbytes: Default::default(),
            len_now: Default::default(),
            vlan_now: Default::default(),
            ihl_byte: Default::default(),
            l4_c: Default::default(),
            j4: Default::default(),
            s6: Default::default(),
            rw0: Default::default(),
            rw1: Default::default(),
            rw2: Default::default(),
            rw3: Default::default(),
            rbase: Default::default(),
            rsum: Default::default(),
            rterm: Default::default(),
            iterm: Default::default(),
            lterm: Default::default(),
            emit_mid: Default::default(),
            emit_flush: Default::default(),
            a_valid: Default::default(),
            ab: Default::default(),
            cur_part: Default::default(),
            arel: Default::default(),
            a_in: Default::default(),
            abase: Default::default(),
            aw0: Default::default(),
            aw1: Default::default(),
            aw2: Default::default(),
            aw3: Default::default(),
            usum: Default::default(),
            isum: Default::default(),
            lsum: Default::default(),
            lw0: Default::default(),
            lw1: Default::default(),
            lw2: Default::default(),
            lw3: Default::default(),
            high_byte: Constant::new(0xff00u64.to_bits()),
            ivlan_c: Default::default(),
            irel3_c: Default::default(),
            iihl_byte: Default::default(),
            il4_c: Default::default(),
            itotal_c: Default::default(),
            iend_c: Default::default(),
            ucs_pos: Default::default(),
            ipsum_fold1: Default::default(),
            ipsum_fold2: Default::default(),
            d_ihl: Default::default(),
            d_l4: Default::default(),
            d_ipv4eth: Default::default(),
            d_verok: Default::default(),
            d_udp_dport: Default::default(),
            d_udp_csum: Default::default(),
            d_flags: Default::default(),
            d_rsv1: Default::default(),
            d_rsv2: Default::default(),
            d_vni: Default::default(),
            d_idmac: Default::default(),
            d_ismac: Default::default(),
            d_ilen: Default::default(),
            d_ivlan: Default::default(),
            d_ietype: Default::default(),
            d_iverihl: Default::default(),
            d_iihl: Default::default(),
            d_itotal: Default::default(),
            d_ifrag: Default::default(),
            d_iproto: Default::default(),
            d_ip_ok: Default::default(),
            d_l4_ok: Default::default(),
            d_ilen17: Default::default(),
            irel3_k: [
                Constant::new(30u64.to_bits()),
                Constant::new(34u64.to_bits()),
            ],
            d_u_ok: Default::default(),
            d_pseudo_l: Default::default(),
            d_l1: Default::default(),
            d_l_ok: Default::default(),
            d_ip_checked: Default::default(),
            d_l4_checked: Default::default(),
            d_overlay: Default::default(),
            d_reason: Default::default(),
            d_strict_bad: Default::default(),
            out: Default::default(),
            res: Default::default(),
            d_i1: Default::default(),
            d_ifold: Default::default(),
            d_i_ok: Default::default(),
            lane_be: std::array::from_fn(|i| Constant::new((0xffu64 << (56 - 8 * i)).to_bits())),
            tpid: Constant::new(0x8100u64.to_bits()),
            low16: Constant::new(0xffffu64.to_bits()),
            ethertype_ipv4: Constant::new(0x0800u64.to_bits()),
            frag_mask: Constant::new(0x3fffu64.to_bits()),
            offset_mask: Constant::new(0x1fffu64.to_bits()),
            mf_bit: Constant::new(0x2000u64.to_bits()),
            flags_other: Constant::new(0xf7u64.to_bits()),
        }
    }
}

impl Logic for DecapValidator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            bi,
            in_frame,
            len_r,
            len_ge18,
            ended,
            raw0,
            raw1,
            raw2,
            raw3,
            raw4,
            tpid1,
            ipacc,
            pr_data,
            pr_last,
            pr_valid,
            pr_idx,
            udp,
            vxl,
            ia2,
            ia3,
            w30,
            j4_r,
            w14,
            rm,
            at1,
            at2,
            ivlan_r,
            arel_r,
            age_r,
            il4_r,
            iend_r,
            s6_r,
            ia4,
            ia5,
            ia6,
            iucsum,
            uacc,
            iacc,
            lacc,
            b_iwords,
            b_lwords,
            b_in,
            b_first,
            b_at4,
            g_valid,
            g_out,
            g_ip_checked,
            g_l4_checked,
            g_pl,
            f1_valid,
            f1_len,
            f1_vlan,
            f1_tci,
            f1_etype,
            f1_verihl,
            f1_frag,
            f1_proto,
            f1_sip,
            f1_dip,
            f1_dmac,
            f1_smac,
            f1_ipsum_ok,
            f1_l4d,
            f1_ilen,
            f1_lt14,
            f1_lt_l3,
            f1_lt_l4,
            f1_lt_udp,
            f1_lt_vxlan,
            f1_total_bad,
            f1_ulen_bad,
            f1_pu,
            f1_pl0,
            f1_pl1
        );

        // ---- The beat in big-endian lane order, absent bytes zeroed ----
        self.bt.next = (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(0)) << 56)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(8)) << 48)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(16)) << 40)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(24)) << 32)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(32)) << 24)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(40)) << 16)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(48)) << 8)
            | (bit_cast::<64, 8>(self.tdata.val().get_bits::<8>(56)) << 0);
        self.kmask.next = 0.into();
        if self.tkeep.val().get_bit(0) {
            self.kmask.next = self.kmask.val() | self.lane_be[0].val();
        }
        if self.tkeep.val().get_bit(1) {
            self.kmask.next = self.kmask.val() | self.lane_be[1].val();
        }
        if self.tkeep.val().get_bit(2) {
            self.kmask.next = self.kmask.val() | self.lane_be[2].val();
        }
        if self.tkeep.val().get_bit(3) {
            self.kmask.next = self.kmask.val() | self.lane_be[3].val();
        }
        if self.tkeep.val().get_bit(4) {
            self.kmask.next = self.kmask.val() | self.lane_be[4].val();
        }
        if self.tkeep.val().get_bit(5) {
            self.kmask.next = self.kmask.val() | self.lane_be[5].val();
        }
        if self.tkeep.val().get_bit(6) {
            self.kmask.next = self.kmask.val() | self.lane_be[6].val();
        }
        if self.tkeep.val().get_bit(7) {
            self.kmask.next = self.kmask.val() | self.lane_be[7].val();
        }
        self.bt.next = self.bt.val() & self.kmask.val();
        self.nbytes.next = 0.into();
        if self.tkeep.val().get_bit(0) {
            self.nbytes.next = 1.into();
        }
        if self.tkeep.val().get_bit(1) {
            self.nbytes.next = 2.into();
        }
        if self.tkeep.val().get_bit(2) {
            self.nbytes.next = 3.into();
        }
        if self.tkeep.val().get_bit(3) {
            self.nbytes.next = 4.into();
        }
        if self.tkeep.val().get_bit(4) {
            self.nbytes.next = 5.into();
        }
        if self.tkeep.val().get_bit(5) {
            self.nbytes.next = 6.into();
        }
        if self.tkeep.val().get_bit(6) {
            self.nbytes.next = 7.into();
        }
        if self.tkeep.val().get_bit(7) {
            self.nbytes.next = 8.into();
        }

        // ---- Raw stage: beat index, length, the first five beats ----
        self.cur_idx.next = 0.into();
        if self.in_frame.q.val() {
            self.cur_idx.next = self.bi.q.val();
        }
        // Outer L3 offset: an 802.1Q TPID at bytes 12-13 (beat 1, lanes 4-5).
        self.vlan_now.next = self.tpid1.q.val();
        if self.cur_idx.val() == 1 {
            self.vlan_now.next = self.bt.val().get_bits::<16>(16) == self.tpid.val();
        }
        self.len_now.next = (self.cur_idx.val() << 3) + self.nbytes.val();
        self.ended.d.next = false;
        if self.beat.val() {
            self.in_frame.d.next = !self.tlast.val();
            self.bi.d.next = self.cur_idx.val() + 1;
            if self.tlast.val() {
                self.ended.d.next = true;
                self.len_r.d.next = self.len_now.val();
                self.len_ge18.d.next = self.len_now.val() >= 18;
            }
            if self.cur_idx.val() == 0 {
                self.raw0.d.next = self.bt.val();
            }
            if self.cur_idx.val() == 1 {
                self.raw1.d.next = self.bt.val();
            }
            if self.cur_idx.val() == 2 {
                self.raw2.d.next = self.bt.val();
            }
            if self.cur_idx.val() == 3 {
                self.raw3.d.next = self.bt.val();
            }
            if self.cur_idx.val() == 4 {
                self.raw4.d.next = self.bt.val();
            }
            if self.cur_idx.val() == 1 {
                self.tpid1.d.next = self.vlan_now.val();
            }
        }
        // IHL (known once beat 2 is registered) gives L4; L4 mod 8 is 2 or 6.
        self.ihl_byte.next = self.raw1.q.val().get_bits::<8>(8);
        if self.tpid1.q.val() {
            self.ihl_byte.next = self.raw2.q.val().get_bits::<8>(40);
        }
        self.l4_c.next = 14.into();
        if self.tpid1.q.val() {
            self.l4_c.next = 18.into();
        }
        self.l4_c.next =
            self.l4_c.val() + (bit_cast::<16, 4>(self.ihl_byte.val().get_bits::<4>(0)) << 2);
        self.j4_r.d.next = self.l4_c.val() >> 3;
        self.s6_r.d.next = self.l4_c.val().get_bit(2);
        self.j4.next = self.j4_r.q.val();
        self.s6.next = self.s6_r.q.val();

        // ---- Outer IPv4 header sum over [L3, L4), word by word ----
        self.rw0.next = self.bt.val().get_bits::<16>(48);
        self.rw1.next = self.bt.val().get_bits::<16>(32);
        self.rw2.next = self.bt.val().get_bits::<16>(16);
        self.rw3.next = self.bt.val().get_bits::<16>(0);
        self.rbase.next = self.cur_idx.val() << 3;
        self.rterm[0].next = 0.into();
        if self.rm.q.val().get_bit(0) {
            self.rterm[0].next = bit_cast::<32, 16>(self.rw0.val());
        }
        self.rterm[1].next = 0.into();
        if self.rm.q.val().get_bit(1) {
            self.rterm[1].next = bit_cast::<32, 16>(self.rw1.val());
        }
        self.rterm[2].next = 0.into();
        if self.rm.q.val().get_bit(2) {
            self.rterm[2].next = bit_cast::<32, 16>(self.rw2.val());
        }
        self.rterm[3].next = 0.into();
        if self.rm.q.val().get_bit(3) {
            self.rterm[3].next = bit_cast::<32, 16>(self.rw3.val());
        }
        self.rsum.next = (self.rterm[0].val() + self.rterm[1].val())
            + (self.rterm[2].val() + self.rterm[3].val());
        // The next beat's words: from beat 2 on, in [L3, L4) (L4 needed
        // from beat 4 on, and known from beat 3's cycle).
        self.l3_after.next = 14.into();
        if self.vlan_now.val() {
            self.l3_after.next = 18.into();
        }
        self.nbase.next = self.rbase.val() + 8;
        self.rm_n.next = 0.into();
        if self.cur_idx.val() >= 1 {
            if (self.nbase.val() >= self.l3_after.val())
                & ((self.cur_idx.val() < 3) | (self.nbase.val() < self.l4_c.val()))
            {
                self.rm_n.next = self.rm_n.val() | self.bit4[0].val();
            }
            if (self.nbase.val() + 2 >= self.l3_after.val())
                & ((self.cur_idx.val() < 3) | (self.nbase.val() + 2 < self.l4_c.val()))
            {
                self.rm_n.next = self.rm_n.val() | self.bit4[1].val();
            }
            if (self.nbase.val() + 4 >= self.l3_after.val())
                & ((self.cur_idx.val() < 3) | (self.nbase.val() + 4 < self.l4_c.val()))
            {
                self.rm_n.next = self.rm_n.val() | self.bit4[2].val();
            }
            if (self.nbase.val() + 6 >= self.l3_after.val())
                & ((self.cur_idx.val() < 3) | (self.nbase.val() + 6 < self.l4_c.val()))
            {
                self.rm_n.next = self.rm_n.val() | self.bit4[3].val();
            }
        }
        if self.beat.val() {
            self.rm.d.next = self.rm_n.val();
            self.at1.d.next = self.cur_idx.val() == 0;
            self.at2.d.next = self.at1.q.val();
            if self.tlast.val() {
                self.rm.d.next = 0.into();
                self.at1.d.next = false;
                self.at2.d.next = false;
            }
        }
        if self.beat.val() & (self.cur_idx.val() != 0) {
            if self.at1.q.val() {
                self.ipacc.d.next = 0.into();
                self.w14.d.next = self.rw3.val();
            } else if self.at2.q.val() {
                self.ipacc.d.next = self.rsum.val();
                if !self.tpid1.q.val() {
                    self.ipacc.d.next = self.rsum.val() + bit_cast::<32, 16>(self.w14.q.val());
                }
            } else {
                self.ipacc.d.next = self.ipacc.q.val() + self.rsum.val();
            }
        }

        // ---- Aligned stage: the stream from L4 on, one beat behind ----
        // Aligned beat k is bytes [8k + s, 8k + s + 8) (s = L4 mod 8), made
        // when raw beat k + 1 arrives, or alone after the frame's last beat.
        self.emit_mid.next =
            self.beat.val() & self.in_frame.q.val() & self.pr_valid.q.val() & !self.pr_last.q.val();
        self.emit_flush.next = self.pr_valid.q.val() & self.pr_last.q.val();
        self.a_valid.next = self.emit_mid.val() | self.emit_flush.val();
        // The raw beat's part: zero for the flush after a frame's last
        // beat, else the beat on the input. The aligned beat is used only
        // when `a_valid`, and then `pr_last` (a register) tells a flush
        // from a middle beat. (Picked by `emit_mid` instead, the input's
        // valid gated all 64 bits in front of the sums.)
        self.cur_part.next = self.bt.val();
        if self.pr_last.q.val() {
            self.cur_part.next = 0.into();
        }
        self.ab.next = (self.pr_data.q.val() << 16) | (self.cur_part.val() >> 48);
        if self.s6.val() {
            self.ab.next = (self.pr_data.q.val() << 48) | (self.cur_part.val() >> 16);
        }
        if self.beat.val() {
            self.pr_valid.d.next = true;
            self.pr_data.d.next = self.bt.val();
            self.pr_last.d.next = self.tlast.val();
            self.pr_idx.d.next = self.cur_idx.val();
            self.arel_r.d.next = self.cur_idx.val() - self.j4.val();
            self.age_r.d.next = self.cur_idx.val() >= self.j4.val();
        } else if self.emit_flush.val() {
            self.pr_valid.d.next = false;
        }
        self.arel.next = self.arel_r.q.val();
        self.a_in.next = self.a_valid.val() & (self.pr_idx.q.val() >= 4) & self.age_r.q.val();
        self.abase.next = self.arel.val() << 3;
        self.aw0.next = self.ab.val().get_bits::<16>(48);
        self.aw1.next = self.ab.val().get_bits::<16>(32);
        self.aw2.next = self.ab.val().get_bits::<16>(16);
        self.aw3.next = self.ab.val().get_bits::<16>(0);
        // Inner frame at rel 16; its IPv4 header at rel 30, or 34 after an
        // inner 802.1Q tag (TPID at rel 28-29: aligned beat 3, lanes 4-5).
        // From aligned beat 4 on (beat 3's words before rel 30 are outer or
        // inner Ethernet either way, and its word at 30 waits in `w30`).
        self.ivlan_c.next = self.ivlan_r.q.val();
        self.irel3_c.next = 30.into();
        self.iihl_byte.next = self.ia3.q.val().get_bits::<8>(8);
        self.itotal_c.next = self.ia4.q.val().get_bits::<16>(48);
        if self.ivlan_c.val() {
            self.irel3_c.next = 34.into();
            self.iihl_byte.next = self.ia4.q.val().get_bits::<8>(40);
            self.itotal_c.next = self.ia4.q.val().get_bits::<16>(16);
        }
        self.il4_c.next =
            self.irel3_c.val() + (bit_cast::<16, 4>(self.iihl_byte.val().get_bits::<4>(0)) << 2);
        self.iend_c.next = self.irel3_c.val() + self.itotal_c.val();
        self.il4_r.d.next = self.il4_c.val();
        self.iend_r.d.next = self.iend_c.val();
        self.usum.next = (bit_cast::<32, 16>(self.aw0.val()) + bit_cast::<32, 16>(self.aw1.val()))
            + (bit_cast::<32, 16>(self.aw2.val()) + bit_cast::<32, 16>(self.aw3.val()));
        // The segment may end mid-word (odd length) with padding after it:
        // the byte past the end counts as zero.
        self.lw0.next = self.aw0.val();
        if self.abase.val() + 1 == self.iend_r.q.val() {
            self.lw0.next = self.aw0.val() & self.high_byte.val();
        }
        self.lw1.next = self.aw1.val();
        if self.abase.val() + 3 == self.iend_r.q.val() {
            self.lw1.next = self.aw1.val() & self.high_byte.val();
        }
        self.lw2.next = self.aw2.val();
        if self.abase.val() + 5 == self.iend_r.q.val() {
            self.lw2.next = self.aw2.val() & self.high_byte.val();
        }
        self.lw3.next = self.aw3.val();
        if self.abase.val() + 7 == self.iend_r.q.val() {
            self.lw3.next = self.aw3.val() & self.high_byte.val();
        }
        self.iterm[0].next = 0.into();
        if (self.abase.val() + 0 >= self.irel3_c.val())
            & ((self.arel.val() < 6) | (self.abase.val() + 0 < self.il4_r.q.val()))
        {
            self.iterm[0].next = bit_cast::<32, 16>(self.aw0.val());
        }
        self.lterm[0].next = 0.into();
        if (self.arel.val() >= 6)
            & (self.abase.val() + 0 >= self.il4_r.q.val())
            & (self.abase.val() + 0 < self.iend_r.q.val())
        {
            self.lterm[0].next = bit_cast::<32, 16>(self.lw0.val());
        }
        self.iterm[1].next = 0.into();
        if (self.abase.val() + 2 >= self.irel3_c.val())
            & ((self.arel.val() < 6) | (self.abase.val() + 2 < self.il4_r.q.val()))
        {
            self.iterm[1].next = bit_cast::<32, 16>(self.aw1.val());
        }
        self.lterm[1].next = 0.into();
        if (self.arel.val() >= 6)
            & (self.abase.val() + 2 >= self.il4_r.q.val())
            & (self.abase.val() + 2 < self.iend_r.q.val())
        {
            self.lterm[1].next = bit_cast::<32, 16>(self.lw1.val());
        }
        self.iterm[2].next = 0.into();
        if (self.abase.val() + 4 >= self.irel3_c.val())
            & ((self.arel.val() < 6) | (self.abase.val() + 4 < self.il4_r.q.val()))
        {
            self.iterm[2].next = bit_cast::<32, 16>(self.aw2.val());
        }
        self.lterm[2].next = 0.into();
        if (self.arel.val() >= 6)
            & (self.abase.val() + 4 >= self.il4_r.q.val())
            & (self.abase.val() + 4 < self.iend_r.q.val())
        {
            self.lterm[2].next = bit_cast::<32, 16>(self.lw2.val());
        }
        self.iterm[3].next = 0.into();
        if (self.abase.val() + 6 >= self.irel3_c.val())
            & ((self.arel.val() < 6) | (self.abase.val() + 6 < self.il4_r.q.val()))
            & (self.arel.val() != 3)
        {
            self.iterm[3].next = bit_cast::<32, 16>(self.aw3.val());
        }
        self.lterm[3].next = 0.into();
        if (self.arel.val() >= 6)
            & (self.abase.val() + 6 >= self.il4_r.q.val())
            & (self.abase.val() + 6 < self.iend_r.q.val())
        {
            self.lterm[3].next = bit_cast::<32, 16>(self.lw3.val());
        }
        self.b_iwords.d.next = (bit_cast::<64, 32>(self.iterm[0].val()) << 48)
            | (bit_cast::<64, 32>(self.iterm[1].val()) << 32)
            | (bit_cast::<64, 32>(self.iterm[2].val()) << 16)
            | bit_cast::<64, 32>(self.iterm[3].val());
        self.b_lwords.d.next = (bit_cast::<64, 32>(self.lterm[0].val()) << 48)
            | (bit_cast::<64, 32>(self.lterm[1].val()) << 32)
            | (bit_cast::<64, 32>(self.lterm[2].val()) << 16)
            | bit_cast::<64, 32>(self.lterm[3].val());
        self.b_in.d.next = self.a_in.val();
        self.b_first.d.next = self.arel.val() == 0;
        self.b_at4.d.next = self.arel.val() == 4;
        self.isum.next = (bit_cast::<32, 16>(self.b_iwords.q.val().get_bits::<16>(48))
            + bit_cast::<32, 16>(self.b_iwords.q.val().get_bits::<16>(32)))
            + (bit_cast::<32, 16>(self.b_iwords.q.val().get_bits::<16>(16))
                + bit_cast::<32, 16>(self.b_iwords.q.val().get_bits::<16>(0)));
        self.lsum.next = (bit_cast::<32, 16>(self.b_lwords.q.val().get_bits::<16>(48))
            + bit_cast::<32, 16>(self.b_lwords.q.val().get_bits::<16>(32)))
            + (bit_cast::<32, 16>(self.b_lwords.q.val().get_bits::<16>(16))
                + bit_cast::<32, 16>(self.b_lwords.q.val().get_bits::<16>(0)));
        // The inner UDP checksum field (rel iL4 + 6: lanes 0-1 or 4-5).
        self.ucs_pos.next = self.il4_r.q.val() + 6;
        self.vni_lookup.next = self.a_in.val() & (self.arel.val() == 1);
        self.vni_key.next = self.ab.val().get_bits::<24>(8);
        self.map_lookup.next = self.a_in.val() & (self.arel.val() == 3);
        self.map_key.next = (bit_cast::<72, 24>(self.vxl.q.val().get_bits::<24>(8)) << 48)
            | (bit_cast::<72, 16>(self.ia2.q.val().get_bits::<16>(0)) << 32)
            | bit_cast::<72, 32>(self.ab.val().get_bits::<32>(32));
        if self.a_in.val() {
            if self.arel.val() == 0 {
                self.uacc.d.next = self.usum.val();
                self.udp.d.next = self.ab.val();
            } else {
                self.uacc.d.next = self.uacc.q.val() + self.usum.val();
            }
            if self.arel.val() == 1 {
                self.vxl.d.next = self.ab.val();
            }
            if self.arel.val() == 2 {
                self.ia2.d.next = self.ab.val();
            }
            if self.arel.val() == 3 {
                self.ia3.d.next = self.ab.val();
                self.w30.d.next = self.aw3.val();
                self.ivlan_r.d.next = self.ab.val().get_bits::<16>(16) == self.tpid.val();
            }
            if self.arel.val() == 4 {
                self.ia4.d.next = self.ab.val();
            }
            if self.arel.val() == 5 {
                self.ia5.d.next = self.ab.val();
            }
            if self.arel.val() == 6 {
                self.ia6.d.next = self.ab.val();
            }
            if (self.arel.val() >= 6) & (self.arel.val() == (self.ucs_pos.val() >> 3)) {
                self.iucsum.d.next = self.ab.val().get_bits::<16>(48);
                if self.ucs_pos.val().get_bit(2) {
                    self.iucsum.d.next = self.ab.val().get_bits::<16>(16);
                }
            }
        }

        // The inner sums, a cycle behind the aligned beat. `w30` and
        // `ivlan_r` are loaded with aligned beat 3 and hold past beat 4.
        if self.b_in.q.val() {
            if self.b_first.q.val() {
                self.iacc.d.next = 0.into();
                self.lacc.d.next = 0.into();
            } else {
                self.iacc.d.next = self.iacc.q.val() + self.isum.val();
                // Nothing is summed before beat 4 but `w30`'s word.
                if self.b_at4.q.val() {
                    self.iacc.d.next = self.isum.val();
                    if !self.ivlan_r.q.val() {
                        self.iacc.d.next = self.isum.val() + bit_cast::<32, 16>(self.w30.q.val());
                    }
                }
                self.lacc.d.next = self.lacc.q.val() + self.lsum.val();
            }
        }

        // ---- F1: the raw stage's results, the cycle after the last beat ----
        self.ipsum_fold1.next =
            (self.ipacc.q.val() & self.low16.val()) + (self.ipacc.q.val() >> 16);
        self.ipsum_fold2.next =
            (self.ipsum_fold1.val() & self.low16.val()) + (self.ipsum_fold1.val() >> 16);
        // What the decision needs that F1's sources already fix. The
        // aligned registers read here (UDP, inner headers) may still be
        // loading in this cycle for a frame that ends inside them, but
        // then the checks that use these parts are off: the UDP length
        // and checksum need `len >= L4 + 30` (aligned beats 0-3 before the
        // last), the inner L4 checksum an inner header plus 8 bytes (beats
        // 4-6 before the last).
        self.e_vlan.next = self.tpid1.q.val() & self.len_ge18.q.val();
        self.e_sip.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(32)) << 16)
            | bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(16));
        self.e_dip.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(0)) << 16)
            | bit_cast::<32, 16>(self.raw4.q.val().get_bits::<16>(48));
        if self.e_vlan.val() {
            self.e_sip.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(0)) << 16)
                | bit_cast::<32, 16>(self.raw4.q.val().get_bits::<16>(48));
            self.e_dip.next = self.raw4.q.val().get_bits::<32>(16);
        }
        self.e_l4u.next = (bit_cast::<16, 4>(self.raw1.q.val().get_bits::<4>(8)) << 2) + 14;
        self.e_l4t.next = (bit_cast::<16, 4>(self.raw2.q.val().get_bits::<4>(40)) << 2) + 18;
        self.e_ilenu.next = self.len_r.q.val() - self.e_l4u.val();
        self.e_ilent.next = self.len_r.q.val() - self.e_l4t.val();
        self.e_l3lenu.next = self.len_r.q.val() - 14;
        self.e_l3lent.next = self.len_r.q.val() - 18;
        self.e_ulen.next = self.udp.q.val().get_bits::<16>(16);
        // Outer UDP pseudo-header: addresses, protocol 17, UDP length.
        self.e_pu.next = (bit_cast::<32, 16>(self.e_sip.val().get_bits::<16>(16))
            + bit_cast::<32, 16>(bit_cast::<16, 32>(self.e_sip.val())))
            + (bit_cast::<32, 16>(self.e_dip.val().get_bits::<16>(16))
                + bit_cast::<32, 16>(bit_cast::<16, 32>(self.e_dip.val())))
            + (bit_cast::<32, 16>(self.e_ulen.val()) + 17);
        // Inner pseudo-header, untagged and tagged inner frame: addresses,
        // protocol and the L4 length `total - 4*IHL`, taken as `total +
        // ~(4*IHL)` (the same modulo 0xffff, and the check needs `total >=
        // 4*IHL + 8`).
        self.e_iihl0.next = !(bit_cast::<16, 4>(self.ia3.q.val().get_bits::<4>(8)) << 2);
        self.e_iihl1.next = !(bit_cast::<16, 4>(self.ia4.q.val().get_bits::<4>(40)) << 2);
        self.e_pl0.next = (bit_cast::<32, 16>(self.ia5.q.val().get_bits::<16>(32))
            + bit_cast::<32, 16>(self.ia5.q.val().get_bits::<16>(16)))
            + (bit_cast::<32, 16>(self.ia5.q.val().get_bits::<16>(0))
                + bit_cast::<32, 16>(self.ia6.q.val().get_bits::<16>(48)))
            + (bit_cast::<32, 8>(self.ia4.q.val().get_bits::<8>(0))
                + bit_cast::<32, 16>(self.ia4.q.val().get_bits::<16>(48)))
            + bit_cast::<32, 16>(self.e_iihl0.val());
        self.e_pl1.next = (bit_cast::<32, 16>(self.ia5.q.val().get_bits::<16>(0))
            + bit_cast::<32, 16>(self.ia6.q.val().get_bits::<16>(48)))
            + (bit_cast::<32, 16>(self.ia6.q.val().get_bits::<16>(32))
                + bit_cast::<32, 16>(self.ia6.q.val().get_bits::<16>(16)))
            + (bit_cast::<32, 8>(self.ia5.q.val().get_bits::<8>(32))
                + bit_cast::<32, 16>(self.ia4.q.val().get_bits::<16>(16)))
            + bit_cast::<32, 16>(self.e_iihl1.val());
        self.f1_valid.d.next = self.ended.q.val();
        if self.ended.q.val() {
            self.f1_len.d.next = self.len_r.q.val();
            self.f1_vlan.d.next = self.e_vlan.val();
            self.f1_tci.d.next = self.raw1.q.val().get_bits::<16>(0);
            self.f1_dmac.d.next = self.raw0.q.val().get_bits::<48>(16);
            self.f1_smac.d.next = (bit_cast::<48, 16>(self.raw0.q.val().get_bits::<16>(0)) << 32)
                | bit_cast::<48, 32>(self.raw1.q.val().get_bits::<32>(32));
            self.f1_ipsum_ok.d.next = self.ipsum_fold2.val() == self.low16.val();
            self.f1_lt14.d.next = self.len_r.q.val() < 14;
            if self.e_vlan.val() {
                self.f1_l4d.d.next = self.e_l4t.val();
                self.f1_ilen.d.next = self.e_ilent.val();
                self.f1_lt_l3.d.next = self.len_r.q.val() < 38;
                self.f1_lt_l4.d.next = self.len_r.q.val() < self.e_l4t.val();
                self.f1_lt_udp.d.next = self.len_r.q.val() < self.e_l4t.val() + 8;
                self.f1_lt_vxlan.d.next = self.len_r.q.val() < self.e_l4t.val() + 30;
                self.f1_total_bad.d.next =
                    self.raw2.q.val().get_bits::<16>(16) != self.e_l3lent.val();
                self.f1_ulen_bad.d.next = self.e_ulen.val() != self.e_ilent.val();
            } else {
                self.f1_l4d.d.next = self.e_l4u.val();
                self.f1_ilen.d.next = self.e_ilenu.val();
                self.f1_lt_l3.d.next = self.len_r.q.val() < 34;
                self.f1_lt_l4.d.next = self.len_r.q.val() < self.e_l4u.val();
                self.f1_lt_udp.d.next = self.len_r.q.val() < self.e_l4u.val() + 8;
                self.f1_lt_vxlan.d.next = self.len_r.q.val() < self.e_l4u.val() + 30;
                self.f1_total_bad.d.next =
                    self.raw2.q.val().get_bits::<16>(48) != self.e_l3lenu.val();
                self.f1_ulen_bad.d.next = self.e_ulen.val() != self.e_ilenu.val();
            }
            self.f1_pu.d.next = self.e_pu.val();
            self.f1_pl0.d.next = self.e_pl0.val();
            self.f1_pl1.d.next = self.e_pl1.val();
            if self.e_vlan.val() {
                self.f1_etype.d.next = self.raw2.q.val().get_bits::<16>(48);
                self.f1_verihl.d.next = self.raw2.q.val().get_bits::<8>(40);
                self.f1_frag.d.next = self.raw3.q.val().get_bits::<16>(48);
                self.f1_proto.d.next = self.raw3.q.val().get_bits::<8>(32);
                self.f1_sip.d.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(0))
                    << 16)
                    | bit_cast::<32, 16>(self.raw4.q.val().get_bits::<16>(48));
                self.f1_dip.d.next = self.raw4.q.val().get_bits::<32>(16);
            } else {
                self.f1_etype.d.next = self.raw1.q.val().get_bits::<16>(16);
                self.f1_verihl.d.next = self.raw1.q.val().get_bits::<8>(8);
                self.f1_frag.d.next = self.raw2.q.val().get_bits::<16>(16);
                self.f1_proto.d.next = self.raw2.q.val().get_bits::<8>(0);
                self.f1_sip.d.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(32))
                    << 16)
                    | bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(16));
                self.f1_dip.d.next = (bit_cast::<32, 16>(self.raw3.q.val().get_bits::<16>(0))
                    << 16)
                    | bit_cast::<32, 16>(self.raw4.q.val().get_bits::<16>(48));
            }
        }
        // ---- t+2: the decision, from F1 and the aligned stage's registers ----
        self.d_ihl.next = bit_cast::<16, 4>(self.f1_verihl.q.val().get_bits::<4>(0)) << 2;
        self.d_l4.next = self.f1_l4d.q.val();
        self.d_ipv4eth.next = self.f1_etype.q.val() == self.ethertype_ipv4.val();
        self.d_verok.next =
            (self.f1_verihl.q.val().get_bits::<4>(4) == 4) & (self.d_ihl.val() >= 20);
        self.d_udp_dport.next = self.udp.q.val().get_bits::<16>(32);
        self.d_udp_csum.next = self.udp.q.val().get_bits::<16>(0);
        self.d_flags.next = self.vxl.q.val().get_bits::<8>(56);
        self.d_rsv1.next = self.vxl.q.val().get_bits::<24>(32);
        self.d_vni.next = self.vxl.q.val().get_bits::<24>(8);
        self.d_rsv2.next = self.vxl.q.val().get_bits::<8>(0);
        self.d_idmac.next = self.ia2.q.val().get_bits::<48>(16);
        self.d_ismac.next = (bit_cast::<48, 16>(self.ia2.q.val().get_bits::<16>(0)) << 32)
            | bit_cast::<48, 32>(self.ia3.q.val().get_bits::<32>(32));
        // Outer UDP: pseudo-header + everything from L4 to the frame's end.
        // A sum folds to all ones exactly when the sum of its 16-bit halves
        // is a nonzero multiple of 0xffff (the parts are below 2^32 and the
        // halves' sum is zero only for a zero sum): one level of adds, not
        // an add and two folds in a row.
        self.d_i1.next = ((self.uacc.q.val() & self.low16.val()) + (self.uacc.q.val() >> 16))
            + ((self.f1_pu.q.val() & self.low16.val()) + (self.f1_pu.q.val() >> 16));
        self.d_u_ok.next = (self.d_i1.val() == 0xffff)
            | (self.d_i1.val() == 0x1fffe)
            | (self.d_i1.val() == 0x2fffd)
            | (self.d_i1.val() == 0x3fffc);
        // Inner frame: rel 16 on; rel length = len - L4.
        self.d_ilen.next = self.f1_ilen.q.val();
        // The inner header's checks are worked out for both inner taggings
        // side by side (index 0: untagged, L3 at rel 30; 1: tagged, rel 34)
        // and picked by the tag compare, rather than compare, pick, add and
        // compare in a row (the RX decision's longest path). Lengths are
        // compared at 17 bits: an inner total length near 65535 must not
        // wrap into range.
        self.d_ivlan.next =
            (self.ia3.q.val().get_bits::<16>(16) == self.tpid.val()) & (self.d_ilen.val() >= 34);
        self.d_ietype[0].next = self.ia3.q.val().get_bits::<16>(16);
        self.d_iverihl[0].next = self.ia3.q.val().get_bits::<8>(8);
        self.d_itotal[0].next = self.ia4.q.val().get_bits::<16>(48);
        self.d_ifrag[0].next = self.ia4.q.val().get_bits::<16>(16);
        self.d_iproto[0].next = self.ia4.q.val().get_bits::<8>(0);
        self.d_ietype[1].next = self.ia4.q.val().get_bits::<16>(48);
        self.d_iverihl[1].next = self.ia4.q.val().get_bits::<8>(40);
        self.d_itotal[1].next = self.ia4.q.val().get_bits::<16>(16);
        self.d_ifrag[1].next = self.ia5.q.val().get_bits::<16>(48);
        self.d_iproto[1].next = self.ia5.q.val().get_bits::<8>(32);
        self.d_ilen17.next = bit_cast::<17, 16>(self.d_ilen.val());
        self.d_iihl[0].next = bit_cast::<16, 4>(self.d_iverihl[0].val().get_bits::<4>(0)) << 2;
        self.d_ip_ok[0].next = (self.d_ietype[0].val() == self.ethertype_ipv4.val())
            & (self.d_iverihl[0].val().get_bits::<4>(4) == 4)
            & (self.d_iihl[0].val() >= 20)
            & (self.d_ilen.val() >= self.irel3_k[0].val() + 20)
            & (self.d_ilen.val() >= self.irel3_k[0].val() + self.d_iihl[0].val());
        self.d_l4_ok[0].next = ((self.d_iproto[0].val() == 6) | (self.d_iproto[0].val() == 17))
            & ((self.d_ifrag[0].val() & self.frag_mask.val()) == 0)
            & (self.d_itotal[0].val() >= self.d_iihl[0].val() + 8)
            & ((bit_cast::<17, 16>(self.irel3_k[0].val())
                + bit_cast::<17, 16>(self.d_itotal[0].val()))
                <= self.d_ilen17.val())
            & !((self.d_iproto[0].val() == 17) & (self.iucsum.q.val() == 0));
        self.d_iihl[1].next = bit_cast::<16, 4>(self.d_iverihl[1].val().get_bits::<4>(0)) << 2;
        self.d_ip_ok[1].next = (self.d_ietype[1].val() == self.ethertype_ipv4.val())
            & (self.d_iverihl[1].val().get_bits::<4>(4) == 4)
            & (self.d_iihl[1].val() >= 20)
            & (self.d_ilen.val() >= self.irel3_k[1].val() + 20)
            & (self.d_ilen.val() >= self.irel3_k[1].val() + self.d_iihl[1].val());
        self.d_l4_ok[1].next = ((self.d_iproto[1].val() == 6) | (self.d_iproto[1].val() == 17))
            & ((self.d_ifrag[1].val() & self.frag_mask.val()) == 0)
            & (self.d_itotal[1].val() >= self.d_iihl[1].val() + 8)
            & ((bit_cast::<17, 16>(self.irel3_k[1].val())
                + bit_cast::<17, 16>(self.d_itotal[1].val()))
                <= self.d_ilen17.val())
            & !((self.d_iproto[1].val() == 17) & (self.iucsum.q.val() == 0));
        self.d_ip_checked.next = self.d_ip_ok[0].val();
        self.d_l4_checked.next = self.d_ip_ok[0].val() & self.d_l4_ok[0].val();
        if self.d_ivlan.val() {
            self.d_ip_checked.next = self.d_ip_ok[1].val();
            self.d_l4_checked.next = self.d_ip_ok[1].val() & self.d_l4_ok[1].val();
        }
        self.d_pseudo_l.next = self.f1_pl0.q.val();
        if self.d_ivlan.val() {
            self.d_pseudo_l.next = self.f1_pl1.q.val();
        }
        self.g_pl.d.next =
            (self.d_pseudo_l.val() & self.low16.val()) + (self.d_pseudo_l.val() >> 16);

        // ---- Classification and validation, in docs/rx-path.md's order ----
        self.d_strict_bad.next = ((self.d_flags.val() & self.flags_other.val()) != 0)
            | (self.d_rsv1.val() != 0)
            | (self.d_rsv2.val() != 0);
        self.d_overlay.next = false;
        self.d_reason.next = 0.into();
        if self.f1_lt14.q.val() {
            self.d_reason.next = 1.into();
        } else if !self.d_ipv4eth.val() {
        } else if self.f1_lt_l3.q.val() {
            self.d_reason.next = 1.into();
        } else if !self.d_verok.val() {
        } else if self.f1_lt_l4.q.val() {
            self.d_reason.next = 1.into();
        } else if (self.f1_proto.q.val() != 17)
            | ((self.f1_frag.q.val() & self.offset_mask.val()) != 0)
        {
        } else if self.f1_lt_udp.q.val() {
            self.d_reason.next = 1.into();
        } else if self.d_udp_dport.val() != self.udp_port.val() {
        } else {
            self.d_overlay.next = true;
            if self.f1_lt_vxlan.q.val() {
                self.d_reason.next = 1.into();
            } else if self.f1_total_bad.q.val() {
                self.d_reason.next = 2.into();
            } else if !self.f1_ipsum_ok.q.val() {
                self.d_reason.next = 3.into();
            } else if (self.f1_frag.q.val() & self.mf_bit.val()) != 0 {
                self.d_reason.next = 4.into();
            } else if self.f1_ulen_bad.q.val() {
                self.d_reason.next = 5.into();
            } else if (self.d_udp_csum.val() != 0) & !self.d_u_ok.val() {
                self.d_reason.next = 6.into();
            } else if (self.f1_dmac.q.val() != self.vtep_mac.val())
                & !self.f1_dmac.q.val().get_bit(40)
            {
                self.d_reason.next = 7.into();
            } else if !self.d_flags.val().get_bit(3) | (self.strict.val() & self.d_strict_bad.val())
            {
                self.d_reason.next = 8.into();
            }
        }
        self.out.next.length = self.f1_len.q.val();
        self.out.next.overlay = self.d_overlay.val();
        self.out.next.reason = self.d_reason.val();
        self.out.next.vlan_valid = self.f1_vlan.q.val();
        self.out.next.vlan = bit_cast::<12, 16>(self.f1_tci.q.val());
        self.out.next.vlan_bad = (self.f1_vlan.q.val() != self.vlan_enable.val())
            | (self.f1_vlan.q.val()
                & (bit_cast::<12, 16>(self.f1_tci.q.val()) != self.vlan_id.val()));
        self.out.next.vni = self.d_vni.val();
        self.out.next.src_ip = self.f1_sip.q.val();
        self.out.next.dst_ip = self.f1_dip.q.val();
        self.out.next.src_mac = self.f1_smac.q.val();
        self.out.next.inner_dst_mac = self.d_idmac.val();
        self.out.next.inner_src_mac = self.d_ismac.val();
        self.out.next.strip = bit_cast::<8, 16>(self.d_l4.val() + 16);
        self.out.next.ip_csum = 0.into();
        self.out.next.l4_csum = 0.into();
        self.g_valid.d.next = self.f1_valid.q.val();
        self.g_out.d.next = self.out.val();
        self.g_ip_checked.d.next = self.d_ip_checked.val();
        self.g_l4_checked.d.next = self.d_l4_checked.val();

        // ---- t+3: the inner checksums, from the accumulators' last add ----
        self.d_l1.next = self.g_pl.q.val()
            + ((self.lacc.q.val() & self.low16.val()) + (self.lacc.q.val() >> 16));
        self.d_l_ok.next = (self.d_l1.val() == 0xffff)
            | (self.d_l1.val() == 0x1fffe)
            | (self.d_l1.val() == 0x2fffd)
            | (self.d_l1.val() == 0x3fffc);
        self.d_ifold.next = (self.iacc.q.val() & self.low16.val()) + (self.iacc.q.val() >> 16);
        self.d_i_ok.next = (self.d_ifold.val() == 0xffff) | (self.d_ifold.val() == 0x1fffe);
        self.done.next = self.g_valid.q.val();
        self.res.next = self.g_out.q.val();
        if self.g_ip_checked.q.val() {
            self.res.next.ip_csum = 2.into();
            if self.d_i_ok.val() {
                self.res.next.ip_csum = 1.into();
            }
        }
        if self.g_l4_checked.q.val() {
            self.res.next.l4_csum = 2.into();
            if self.d_l_ok.val() {
                self.res.next.l4_csum = 1.into();
            }
        }
        self.fields.next = self.res.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decap_validator_is_synthesizable() {
        let mut uut = DecapValidator::default();
        uut.connect_all();
        yosys_validate("decap_validator", &generate_verilog(&uut)).unwrap();
    }
}
