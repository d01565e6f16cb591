//! Content-addressable table: keys in registers, values in block RAM, one
//! pipelined lookup per clock, programmed by commands.
//!
//! The NIC's mapping table ((VNI, inner MAC) → remote VTEP) and its per-VNI
//! records are both this block with different key widths and value types.
//!
//! ```text
//!            cycle t          t+1                  t+2                  t+3
//! lookup ─▶ register the ─▶ compare key with ─▶ hit + slot from the ─▶ result_valid,
//!           key             all valid entries,  matches, read value    result_hit,
//!                           register matches    RAM at the slot        result_value
//! ```
//!
//! Port A's key is registered before the compare because the commands
//! borrow its comparator: picking between the datapath's key and the
//! command's in front of the comparators put the pick's select on every
//! one of the `E x KW` compare inputs (a net of 1,600 sinks at 64 entries,
//! on the NIC's slowest TX path); registered, the pick is a register's
//! input and each key bit has one driver.
//!
//! A second lookup port (`lookup_b`, the RX path's source check) has its
//! own comparator and its own copy of the value RAM, so TX and RX look up
//! in the same cycle without arbitration; commands write both copies. Its
//! key is compared as it comes, so its lookups take two cycles (t+1 and
//! t+2 above, without the first).
//!
//! Every entry is compared in parallel (registers, not RAM, hold the keys), so
//! a lookup costs the same for any table size, and a new lookup can start
//! every cycle. Values live in block RAM and are read at the slot
//! encoded from the registered matches, which keeps the comparators
//! and the encoder in different cycles. Neither the slot of a hit nor the
//! lowest free slot is a priority chain over the entries (which would grow
//! with the table and, at 64 entries, limited the whole NIC to ~32 MHz):
//! keys are unique, so a hit's slot is an OR of the matching entry's, and the
//! lowest free slot comes from a carry chain a cycle ahead.
//!
//! Programming (from the register slave): the host stages a key, a value and
//! a slot, then rings `cmd` with a command code (see `regmap::pf::cmd`):
//!
//! | code | command | effect |
//! |---|---|---|
//! | 1 | ADD | replace the entry with this key, else take the lowest free slot (FULL if none) |
//! | 2 | DELETE | free the entry with this key (NOT_FOUND if none) |
//! | 3 | READ | copy slot `cmd_index` to the `rd_*` outputs (BAD_INDEX past the end) |
//! | 4 | FIND | copy the entry with this key to `rd_*` (NOT_FOUND if none) |
//! | 5 | CLEAR | free every slot |
//!
//! Atomicity: a command writes key, valid bit and value in one clock edge,
//! and never in the two cycles of a lookup in flight, so a lookup sees the
//! entry wholly old or wholly new, never a key of one and a value of another.
//! Commands borrow the comparator only in cycles without a lookup, so the
//! datapath never waits for the host. A command takes 4-5 cycles; one rung
//! while another runs is refused with BUSY.
//! (A command takes 5-6 cycles: it waits for a cycle without a lookup to
//! load its key into port A's key register, compares the cycle after,
//! and reads the matches in the cycle after that.)

use crate::block_ram::BlockRam;
use rust_hdl::prelude::*;

/// Command-progress states.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum CamCommandState {
    Idle,
    Find,
    Probe,
    Match,
    Exec,
    ReadBack,
}

/// Parameters: `KW` key width in bits; `V` the value record; `E` entries;
/// `AW` slot-index width (`E <= 2^AW`, rust-hdl cannot compute it).
#[derive(LogicBlock)]
pub struct Cam<const KW: usize, V: Synth, const E: usize, const AW: usize> {
    pub clock: Signal<In, Clock>,
    // ---- Lookup port ----
    /// Look `lookup_key` up this cycle.
    pub lookup: Signal<In, Bit>,
    pub lookup_key: Signal<In, Bits<KW>>,
    /// High three cycles after `lookup`, with its result.
    pub result_valid: Signal<Out, Bit>,
    pub result_hit: Signal<Out, Bit>,
    /// The hit entry's value (undefined on a miss).
    pub result_value: Signal<Out, V>,
    // ---- Second lookup port (the RX path's), a cycle sooner: results
    // two cycles after `lookup_b` ----
    pub lookup_b: Signal<In, Bit>,
    pub lookup_b_key: Signal<In, Bits<KW>>,
    pub result_b_valid: Signal<Out, Bit>,
    pub result_b_hit: Signal<Out, Bit>,
    pub result_b_value: Signal<Out, V>,
    // ---- Command port ----
    /// Doorbell: run command `cmd_code` (held inputs sampled now).
    pub cmd: Signal<In, Bit>,
    pub cmd_code: Signal<In, Bits<3>>,
    pub cmd_key: Signal<In, Bits<KW>>,
    pub cmd_value: Signal<In, V>,
    pub cmd_index: Signal<In, Bits<16>>,
    /// 3:0 last result, bit 8 busy, 31:16 entries in use.
    pub status: Signal<Out, Bits<32>>,
    /// Read-back of READ/FIND: slot in use, key, value, slot.
    pub rd_valid: Signal<Out, Bit>,
    pub rd_key: Signal<Out, Bits<KW>>,
    pub rd_value: Signal<Out, V>,
    pub rd_index: Signal<Out, Bits<16>>,
    // ---- Storage ----
    keys: [DFF<Bits<KW>>; E],
    used: [DFF<Bit>; E],
    values: BlockRam<V, AW>,
    /// The values again, written together, read by port B.
    values_b: BlockRam<V, AW>,
    /// Keys again, for read-back by slot without a wide register mux.
    key_copy: BlockRam<Bits<KW>, AW>,
    slot_id: [Constant<Bits<AW>>; E],
    entries: Constant<Bits<16>>,
    // ---- Lookup pipeline ----
    /// Port A's lookup and the key its comparator sees: the lookup's, or
    /// the command's in a cycle without one.
    a0_valid: DFF<Bit>,
    a0_key: DFF<Bits<KW>>,
    s1_valid: DFF<Bit>,
    /// Which entries matched the lookup (bit i: slot i), registered
    /// between the compare and the slot encoding.
    s1_match: DFF<Bits<E>>,
    s2_valid: DFF<Bit>,
    s2_hit: DFF<Bit>,
    b1_valid: DFF<Bit>,
    b1_match: DFF<Bits<E>>,
    b2_valid: DFF<Bit>,
    b2_hit: DFF<Bit>,
    // ---- Command state ----
    state: DFF<CamCommandState>,
    c_code: DFF<Bits<3>>,
    c_key: DFF<Bits<KW>>,
    c_value: DFF<V>,
    c_index: DFF<Bits<16>>,
    p_hit: DFF<Bit>,
    p_slot: DFF<Bits<AW>>,
    p_free: DFF<Bit>,
    p_free_slot: DFF<Bits<AW>>,
    /// The lowest free slot, one-hot (zero when full), worked out every
    /// cycle from the previous cycle's valid bits: a command reads it in
    /// `Match`, at least three cycles after the last command changed them.
    free_low: DFF<Bits<E>>,
    result: DFF<Bits<4>>,
    count: DFF<Bits<16>>,
    rd_valid_q: DFF<Bit>,
    rd_key_q: DFF<Bits<KW>>,
    rd_value_q: DFF<V>,
    rd_index_q: DFF<Bits<16>>,
    rd_used: DFF<Bit>,
    // ---- Combinational ----
    hit: Signal<Local, Bit>,
    hit_slot: Signal<Local, Bits<AW>>,
    b_hit: Signal<Local, Bit>,
    b_hit_slot: Signal<Local, Bits<AW>>,
    match_a: Signal<Local, Bits<E>>,
    match_b: Signal<Local, Bits<E>>,
    free: Signal<Local, Bit>,
    free_slot: Signal<Local, Bits<AW>>,
    used_vec: Signal<Local, Bits<E>>,
    quiet: Signal<Local, Bit>,
    busy_bit: Signal<Local, Bits<32>>,
    busy_flag: Constant<Bits<32>>,
    write_slot: Signal<Local, Bits<AW>>,
    write_now: Signal<Local, Bit>,
    index_slot: Signal<Local, Bits<AW>>,
    index_used: Signal<Local, Bit>,
    ram_addr: Signal<Local, Bits<AW>>,
    ram_read: Signal<Local, Bit>,
    code_add: Constant<Bits<3>>,
    code_delete: Constant<Bits<3>>,
    code_read: Constant<Bits<3>>,
    code_find: Constant<Bits<3>>,
    code_clear: Constant<Bits<3>>,
    res_ok: Constant<Bits<4>>,
    res_full: Constant<Bits<4>>,
    res_not_found: Constant<Bits<4>>,
    res_bad_index: Constant<Bits<4>>,
    res_bad_command: Constant<Bits<4>>,
    res_busy: Constant<Bits<4>>,
}

impl<const KW: usize, V: Synth, const E: usize, const AW: usize> Default for Cam<KW, V, E, AW> {
    fn default() -> Self {
        assert!(
            E >= 1 && E <= (1 << AW),
            "Cam: {E} entries need AW >= log2({E})"
        );
        assert!(AW <= 12, "Cam: AW {AW} too large for a register CAM");
        assert!(KW >= 1 && KW <= 128, "Cam: key width {KW} out of range");
        Self {
            clock: Default::default(),
            lookup: Default::default(),
            lookup_key: Default::default(),
            result_valid: Default::default(),
            result_hit: Default::default(),
            result_value: Default::default(),
            lookup_b: Default::default(),
            lookup_b_key: Default::default(),
            result_b_valid: Default::default(),
            result_b_hit: Default::default(),
            result_b_value: Default::default(),
            cmd: Default::default(),
            cmd_code: Default::default(),
            cmd_key: Default::default(),
            cmd_value: Default::default(),
            cmd_index: Default::default(),
            status: Default::default(),
            rd_valid: Default::default(),
            rd_key: Default::default(),
            rd_value: Default::default(),
            rd_index: Default::default(),
            keys: std::array::from_fn(|_| Default::default()),
            used: std::array::from_fn(|_| Default::default()),
            values: Default::default(),
            values_b: Default::default(),
            key_copy: Default::default(),
            slot_id: std::array::from_fn(|i| Constant::new((i as u64).to_bits())),
            entries: Constant::new((E as u64).to_bits()),
            a0_valid: Default::default(),
            a0_key: Default::default(),
            s1_valid: Default::default(),
            s1_match: Default::default(),
            s2_valid: Default::default(),
            s2_hit: Default::default(),
            b1_valid: Default::default(),
            b1_match: Default::default(),
            b2_valid: Default::default(),
            b2_hit: Default::default(),
            state: Default::default(),
            c_code: Default::default(),
            c_key: Default::default(),
            c_value: Default::default(),
            c_index: Default::default(),
            p_hit: Default::default(),
            p_slot: Default::default(),
            p_free: Default::default(),
            p_free_slot: Default::default(),
            free_low: Default::default(),
            result: Default::default(),
            count: Default::default(),
            rd_valid_q: Default::default(),
            rd_key_q: Default::default(),
            rd_value_q: Default::default(),
            rd_index_q: Default::default(),
            rd_used: Default::default(),
            hit: Default::default(),
            hit_slot: Default::default(),
            b_hit: Default::default(),
            b_hit_slot: Default::default(),
            match_a: Default::default(),
            match_b: Default::default(),
            free: Default::default(),
            free_slot: Default::default(),
            used_vec: Default::default(),
            quiet: Default::default(),
            busy_bit: Default::default(),
            busy_flag: Constant::new(256.into()),
            write_slot: Default::default(),
            write_now: Default::default(),
            index_slot: Default::default(),
            index_used: Default::default(),
            ram_addr: Default::default(),
            ram_read: Default::default(),
            code_add: Constant::new(1.into()),
            code_delete: Constant::new(2.into()),
            code_read: Constant::new(3.into()),
            code_find: Constant::new(4.into()),
            code_clear: Constant::new(5.into()),
            res_ok: Constant::new(0.into()),
            res_full: Constant::new(1.into()),
            res_not_found: Constant::new(2.into()),
            res_bad_index: Constant::new(3.into()),
            res_bad_command: Constant::new(4.into()),
            res_busy: Constant::new(5.into()),
        }
    }
}

impl<const KW: usize, V: Synth, const E: usize, const AW: usize> Cam<KW, V, E, AW> {
    /// Value-RAM read/write collisions seen in simulation (must stay zero).
    pub fn ram_collisions(&self) -> u64 {
        self.values.collisions() + self.values_b.collisions() + self.key_copy.collisions()
    }
}

impl<const KW: usize, V: Synth, const E: usize, const AW: usize> Logic for Cam<KW, V, E, AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            a0_valid,
            a0_key,
            s1_valid,
            s1_match,
            s2_valid,
            s2_hit,
            b1_valid,
            b1_match,
            b2_valid,
            b2_hit,
            state,
            c_code,
            c_key,
            c_value,
            c_index,
            p_hit,
            p_slot,
            p_free,
            p_free_slot,
            free_low,
            result,
            count,
            rd_valid_q,
            rd_key_q,
            rd_value_q,
            rd_index_q,
            rd_used
        );
        clock!(self, clock, values, values_b, key_copy);
        for i in 0..E {
            self.keys[i].clock.next = self.clock.val();
            self.keys[i].d.next = self.keys[i].q.val();
            self.used[i].clock.next = self.clock.val();
            self.used[i].d.next = self.used[i].q.val();
        }

        // ---- Outputs ----
        self.result_valid.next = self.s2_valid.q.val();
        self.result_hit.next = self.s2_hit.q.val();
        self.result_value.next = self.values.read_data.val();
        self.result_b_valid.next = self.b2_valid.q.val();
        self.result_b_hit.next = self.b2_hit.q.val();
        self.result_b_value.next = self.values_b.read_data.val();
        self.busy_bit.next = 0.into();
        if self.state.q.val() != CamCommandState::Idle {
            self.busy_bit.next = self.busy_flag.val();
        }
        self.status.next = (bit_cast::<32, 16>(self.count.q.val()) << 16)
            | self.busy_bit.val()
            | bit_cast::<32, 4>(self.result.q.val());
        self.rd_valid.next = self.rd_valid_q.q.val();
        self.rd_key.next = self.rd_key_q.q.val();
        self.rd_value.next = self.rd_value_q.q.val();
        self.rd_index.next = self.rd_index_q.q.val();

        // ---- Port A's key register: the datapath's key, else the command's ----
        self.a0_valid.d.next = self.lookup.val();
        self.a0_key.d.next = self.c_key.q.val();
        if self.lookup.val() {
            self.a0_key.d.next = self.lookup_key.val();
        }
        self.hit.next = false;
        self.hit_slot.next = 0.into();
        self.free.next = false;
        self.free_slot.next = 0.into();
        // The compare cycle registers which entries matched; the next
        // turns that into hit and slot and reads the value RAM. Keys are
        // unique among used slots (ADD replaces an entry with its key), so
        // at most one entry matches and the slot number is the OR of the
        // matching slot's: an OR tree, where a priority chain over the
        // slots would be as deep as the table is long.
        self.match_a.next = 0.into();
        self.match_b.next = 0.into();
        for i in 0..E {
            self.match_a.next = self.match_a.val().replace_bit(
                i,
                self.used[i].q.val() & (self.keys[i].q.val() == self.a0_key.q.val()),
            );
            // Port B has a comparator of its own.
            self.match_b.next = self.match_b.val().replace_bit(
                i,
                self.used[i].q.val() & (self.keys[i].q.val() == self.lookup_b_key.val()),
            );
        }
        self.s1_match.d.next = self.match_a.val();
        self.b1_match.d.next = self.match_b.val();
        self.hit.next = self.s1_match.q.val().any();
        self.b_hit.next = self.b1_match.q.val().any();
        self.b_hit_slot.next = 0.into();
        for i in 0..E {
            if self.s1_match.q.val().get_bit(i) {
                self.hit_slot.next = self.hit_slot.val() | self.slot_id[i].val();
            }
            if self.b1_match.q.val().get_bit(i) {
                self.b_hit_slot.next = self.b_hit_slot.val() | self.slot_id[i].val();
            }
        }
        self.b1_valid.d.next = self.lookup_b.val();
        self.b2_valid.d.next = self.b1_valid.q.val();
        self.b2_hit.d.next = self.b_hit.val();
        self.values_b.read_address.next = self.b_hit_slot.val();
        self.values_b.read_enable.next = self.b1_valid.q.val();
        // Lowest free slot: the lowest clear bit of the valid bits is the
        // lowest set bit of `!used & (used + 1)` (a carry chain, not a
        // priority chain), registered; its slot number is an OR tree.
        self.used_vec.next = 0.into();
        for i in 0..E {
            self.used_vec.next = self.used_vec.val().replace_bit(i, self.used[i].q.val());
        }
        self.free_low.d.next = !self.used_vec.val() & (self.used_vec.val() + 1);
        self.free.next = self.free_low.q.val().any();
        for i in 0..E {
            if self.free_low.q.val().get_bit(i) {
                self.free_slot.next = self.free_slot.val() | self.slot_id[i].val();
            }
        }

        // ---- Lookup pipeline ----
        self.s1_valid.d.next = self.a0_valid.q.val();
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_hit.d.next = self.hit.val();
        // The value RAM serves the lookup in flight first.
        self.ram_addr.next = self.hit_slot.val();
        self.ram_read.next = self.s1_valid.q.val();

        // ---- Commands ----
        // No command may use the RAMs or change an entry while a lookup is
        // in its RAM-read cycle (t+2 on port A). One in its compare cycle may
        // run: the lookup compares the old keys, so it misses a key being
        // added and hits one being deleted (with its old value, which the
        // delete leaves), and a key whose value is being replaced it hits
        // and reads with the new value. Each lookup thus sees the entry
        // wholly before or wholly after the command. Judging this from
        // registers alone keeps the datapaths' lookup requests out of the
        // command's write enables (the key registers' clock enables and
        // the RAMs' ports).
        self.quiet.next = !self.s1_valid.q.val() & !self.b1_valid.q.val();
        self.write_now.next = false;
        self.write_slot.next = self.p_free_slot.q.val();
        if self.p_hit.q.val() {
            self.write_slot.next = self.p_slot.q.val();
        }
        self.index_slot.next = bit_cast::<AW, 16>(self.c_index.q.val());
        self.index_used.next = false;
        for i in 0..E {
            if self.index_slot.val() == self.slot_id[i].val() {
                self.index_used.next = self.index_used.val() | self.used[i].q.val();
            }
        }
        self.values.write_address.next = self.write_slot.val();
        self.values.write_data.next = self.c_value.q.val();
        self.values_b.write_address.next = self.write_slot.val();
        self.values_b.write_data.next = self.c_value.q.val();
        self.key_copy.write_address.next = self.write_slot.val();
        self.key_copy.write_data.next = self.c_key.q.val();

        match self.state.q.val() {
            CamCommandState::Idle => {
                if self.cmd.val() {
                    self.c_code.d.next = self.cmd_code.val();
                    self.c_key.d.next = self.cmd_key.val();
                    self.c_value.d.next = self.cmd_value.val();
                    self.c_index.d.next = self.cmd_index.val();
                    self.state.d.next = CamCommandState::Find;
                }
            }
            CamCommandState::Find => {
                // Port A's key register takes the command's key in a cycle
                // without a lookup; it is compared in `Probe`, and the
                // matches are in `s1_match` in `Match`.
                if !self.lookup.val() {
                    self.state.d.next = CamCommandState::Probe;
                }
            }
            CamCommandState::Probe => {
                self.state.d.next = CamCommandState::Match;
            }
            CamCommandState::Match => {
                self.p_hit.d.next = self.hit.val();
                self.p_slot.d.next = self.hit_slot.val();
                self.p_free.d.next = self.free.val();
                self.p_free_slot.d.next = self.free_slot.val();
                self.state.d.next = CamCommandState::Exec;
            }
            CamCommandState::Exec => {
                if self.quiet.val() {
                    self.state.d.next = CamCommandState::Idle;
                    self.result.d.next = self.res_ok.val();
                    if self.c_code.q.val() == self.code_add.val() {
                        if self.p_hit.q.val() | self.p_free.q.val() {
                            self.write_now.next = true;
                            if !self.p_hit.q.val() {
                                self.count.d.next = self.count.q.val() + 1;
                            }
                        } else {
                            self.result.d.next = self.res_full.val();
                        }
                    } else if self.c_code.q.val() == self.code_delete.val() {
                        if self.p_hit.q.val() {
                            for i in 0..E {
                                if self.p_slot.q.val() == self.slot_id[i].val() {
                                    self.used[i].d.next = false;
                                }
                            }
                            self.count.d.next = self.count.q.val() - 1;
                        } else {
                            self.result.d.next = self.res_not_found.val();
                        }
                    } else if self.c_code.q.val() == self.code_read.val() {
                        if self.c_index.q.val() < self.entries.val() {
                            self.ram_addr.next = self.index_slot.val();
                            self.ram_read.next = true;
                            self.rd_used.d.next = self.index_used.val();
                            self.state.d.next = CamCommandState::ReadBack;
                        } else {
                            self.result.d.next = self.res_bad_index.val();
                            self.rd_valid_q.d.next = false;
                        }
                    } else if self.c_code.q.val() == self.code_find.val() {
                        if self.p_hit.q.val() {
                            self.c_index.d.next = bit_cast::<16, AW>(self.p_slot.q.val());
                            self.ram_addr.next = self.p_slot.q.val();
                            self.ram_read.next = true;
                            self.rd_used.d.next = true;
                            self.state.d.next = CamCommandState::ReadBack;
                        } else {
                            self.result.d.next = self.res_not_found.val();
                            self.rd_valid_q.d.next = false;
                        }
                    } else if self.c_code.q.val() == self.code_clear.val() {
                        for i in 0..E {
                            self.used[i].d.next = false;
                        }
                        self.count.d.next = 0.into();
                    } else {
                        self.result.d.next = self.res_bad_command.val();
                    }
                }
            }
            CamCommandState::ReadBack => {
                self.rd_valid_q.d.next = self.rd_used.q.val();
                self.rd_key_q.d.next = self.key_copy.read_data.val();
                self.rd_value_q.d.next = self.values.read_data.val();
                self.rd_index_q.d.next = self.c_index.q.val();
                self.state.d.next = CamCommandState::Idle;
            }
            _ => {
                self.state.d.next = CamCommandState::Idle;
            }
        }
        if self.cmd.val() & (self.state.q.val() != CamCommandState::Idle) {
            self.result.d.next = self.res_busy.val();
        }
        if self.write_now.val() {
            for i in 0..E {
                if self.write_slot.val() == self.slot_id[i].val() {
                    self.keys[i].d.next = self.c_key.q.val();
                    self.used[i].d.next = true;
                }
            }
        }
        self.values.write_enable.next = self.write_now.val();
        self.values_b.write_enable.next = self.write_now.val();
        self.key_copy.write_enable.next = self.write_now.val();
        self.values.read_address.next = self.ram_addr.val();
        self.key_copy.read_address.next = self.ram_addr.val();
        self.values.read_enable.next = self.ram_read.val();
        self.key_copy.read_enable.next = self.ram_read.val() & !self.s1_valid.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cam_is_synthesizable() {
        let mut uut = Cam::<72, Bits<80>, 8, 3>::default();
        uut.connect_all();
        yosys_validate("cam", &generate_verilog(&uut)).unwrap();
    }
}
