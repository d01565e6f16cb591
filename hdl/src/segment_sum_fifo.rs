//! Segment sum FIFO: the per-segment payload sums of TSO frames, from the
//! [`TsoTap`](crate::TsoTap) on the TX buffer's ingress side to the
//! `TsoSegmenter` on its egress side (`docs/tx-offload.md`, "Hardware
//! plan"). 16-bit entries in block RAM, written speculatively like the TX
//! buffer's frames: the tap pushes a frame's sums while the frame goes in,
//! and the NIC commits them when the frame turns out valid and requested
//! (the tap's `done`), or rolls them back.
//!
//! Write side, all in one cycle:
//! - `push` appends `push_value` after the entries pushed so far;
//! - `commit` makes every entry pushed so far readable, including one
//!   pushed in the same cycle;
//! - `rollback` discards every entry pushed since the last commit,
//!   including one pushed in the same cycle; with `commit` it wins (an
//!   entry is never shown that the NIC may have meant to discard).
//!
//! A push that finds the FIFO full (committed, uncommitted and not yet
//! fetched entries fill all `2^AW` words) is dropped and sets the sticky
//! `overflow` flag: nothing stored is overwritten, but the frame it belongs
//! to lacks a sum, so `overflow` is a sizing error the NIC must report.
//!
//! Sizing: a TSO frame of `b` beats has at most `b / 7` segments (it is at
//! least 54 bytes, and each segment after the first adds at least
//! `MSS_MIN = 64` bytes, 8 beats), and the tap pushes at most one sum per 7
//! beats taken for any frame, valid or not (boundaries are 64 bytes apart
//! and the first push comes no earlier than the 7th beat). So the entries
//! in the FIFO at any time are at most (beats held in the TX buffer,
//! committed or being written) / 7, plus the current segment's sum that
//! the segmenter has not popped while its payload has already left the
//! buffer, plus the two fetched into the output queue (which do not count
//! against the RAM). With a TX buffer of `2^BAW` beats the NIC builds this
//! FIFO with `AW = BAW - 2`: `2^BAW / 7 + 1 < 2^(BAW-2)` for every
//! `BAW >= 4`, and a buffer that holds two maximum frames has `BAW >= 11`,
//! so the margin is close to half the FIFO. (This assumes the segmenter
//! pops a segment's sum no later than it finishes reading that segment's
//! payload out of the buffer, the "+1" above.)
//!
//! Read side, first word fall through: `valid` and `value` come straight
//! from flip-flops and show the oldest committed entry; `pop` with `valid`
//! takes it (`pop` without `valid` is ignored), and the next entry, if
//! fetched, shows in the next cycle: one pop per cycle is sustained. The
//! RAM's read is registered, so a two-entry output queue (as in
//! [`PacketFifo`](crate::PacketFifo)) is fed a cycle after each read:
//!
//! ```text
//!  cycle      | c          | c+1       | c+2           | c+3
//!  write side | push+commit|           |               |
//!  RAM        | written    | read      | data out      |
//!  valid      | 0          | 0         | 0             | 1   (empty FIFO)
//! ```
//!
//! An entry committed in cycle c is `valid` in cycle c+3 at the earliest.
//! Reads never hit the word being written (a read is issued only below the
//! committed pointer; a write only when not full), which the simulation
//! checks ([`SegmentSumFifo::ram_collisions`]).

use crate::block_ram::BlockRam;
use rust_hdl::prelude::*;

/// `AW`: log2 of the depth in entries; `AWP1` must be `AW + 1` (rust-hdl
/// cannot compute it).
#[derive(LogicBlock)]
pub struct SegmentSumFifo<const AW: usize, const AWP1: usize> {
    pub clock: Signal<In, Clock>,
    /// Append `push_value` (speculatively).
    pub push: Signal<In, Bit>,
    pub push_value: Signal<In, Bits<16>>,
    /// Make every entry pushed so far (this cycle's too) readable.
    pub commit: Signal<In, Bit>,
    /// Discard every entry pushed since the last commit (this cycle's too).
    pub rollback: Signal<In, Bit>,
    /// The oldest committed entry is `value`.
    pub valid: Signal<Out, Bit>,
    pub value: Signal<Out, Bits<16>>,
    /// Take the entry shown (ignored without `valid`).
    pub pop: Signal<In, Bit>,
    /// A push was dropped because the FIFO was full (sticky).
    pub overflow: Signal<Out, Bit>,
    ram: BlockRam<Bits<16>, AW>,
    wr_ptr: DFF<Bits<AWP1>>,
    commit_ptr: DFF<Bits<AWP1>>,
    rd_ptr: DFF<Bits<AWP1>>,
    overflow_r: DFF<Bit>,
    ram_valid: DFF<Bit>,
    a_valid: DFF<Bit>,
    a_value: DFF<Bits<16>>,
    b_valid: DFF<Bit>,
    b_value: DFF<Bits<16>>,
    depth: Constant<Bits<AWP1>>,
    used: Signal<Local, Bits<AWP1>>,
    full: Signal<Local, Bit>,
    write: Signal<Local, Bit>,
    wr_next: Signal<Local, Bits<AWP1>>,
    take: Signal<Local, Bit>,
    level: Signal<Local, Bits<2>>,
    issue: Signal<Local, Bit>,
}

impl<const AW: usize, const AWP1: usize> Default for SegmentSumFifo<AW, AWP1> {
    fn default() -> Self {
        assert_eq!(AWP1, AW + 1, "SegmentSumFifo: AWP1 must be AW + 1");
        assert!(
            (2..=16).contains(&AW),
            "SegmentSumFifo: AW {AW} outside 2..=16"
        );
        Self {
            clock: Default::default(),
            push: Default::default(),
            push_value: Default::default(),
            commit: Default::default(),
            rollback: Default::default(),
            valid: Default::default(),
            value: Default::default(),
            pop: Default::default(),
            overflow: Default::default(),
            ram: Default::default(),
            wr_ptr: Default::default(),
            commit_ptr: Default::default(),
            rd_ptr: Default::default(),
            overflow_r: Default::default(),
            ram_valid: Default::default(),
            a_valid: Default::default(),
            a_value: Default::default(),
            b_valid: Default::default(),
            b_value: Default::default(),
            depth: Constant::new((1u64 << AW).to_bits()),
            used: Default::default(),
            full: Default::default(),
            write: Default::default(),
            wr_next: Default::default(),
            take: Default::default(),
            level: Default::default(),
            issue: Default::default(),
        }
    }
}

impl<const AW: usize, const AWP1: usize> SegmentSumFifo<AW, AWP1> {
    /// The FIFO (`AW` sets the depth, `2^AW` entries).
    pub fn new() -> Self {
        Self::default()
    }

    /// Capacity in entries (the output queue holds two more).
    pub const DEPTH: usize = 1 << AW;

    /// RAM read/write collisions seen in simulation (must stay zero).
    pub fn ram_collisions(&self) -> u64 {
        self.ram.collisions()
    }
}

impl<const AW: usize, const AWP1: usize> Logic for SegmentSumFifo<AW, AWP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, wr_ptr, commit_ptr, rd_ptr, overflow_r, ram_valid, a_valid, a_value,
            b_valid, b_value
        );
        clock!(self, clock, ram);
        self.valid.next = self.a_valid.q.val();
        self.value.next = self.a_value.q.val();
        self.overflow.next = self.overflow_r.q.val();

        // ---- Write side ----
        self.used.next = self.wr_ptr.q.val() - self.rd_ptr.q.val();
        self.full.next = self.used.val() == self.depth.val();
        self.write.next = self.push.val() & !self.rollback.val() & !self.full.val();
        if self.push.val() & !self.rollback.val() & self.full.val() {
            self.overflow_r.d.next = true;
        }
        self.wr_next.next = self.wr_ptr.q.val();
        if self.write.val() {
            self.wr_next.next = self.wr_ptr.q.val() + 1;
        }
        self.ram.write_address.next = bit_cast::<AW, AWP1>(self.wr_ptr.q.val());
        self.ram.write_data.next = self.push_value.val();
        self.ram.write_enable.next = self.write.val();
        if self.rollback.val() {
            self.wr_ptr.d.next = self.commit_ptr.q.val();
        } else {
            self.wr_ptr.d.next = self.wr_next.val();
            if self.commit.val() {
                self.commit_ptr.d.next = self.wr_next.val();
            }
        }

        // ---- Read side: a two-entry queue (a = head, b behind it) fed by
        // the RAM's registered read; a read is issued only when its word is
        // sure of a slot when it lands next cycle ----
        self.take.next = self.pop.val() & self.a_valid.q.val();
        self.level.next = 0.into();
        if self.a_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        if self.b_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        if self.ram_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        self.issue.next = (self.rd_ptr.q.val() != self.commit_ptr.q.val())
            & ((self.level.val() < 2) | ((self.level.val() == 2) & self.take.val()));
        self.ram.read_address.next = bit_cast::<AW, AWP1>(self.rd_ptr.q.val());
        self.ram.read_enable.next = self.issue.val();
        self.ram_valid.d.next = self.issue.val();
        if self.issue.val() {
            self.rd_ptr.d.next = self.rd_ptr.q.val() + 1;
        }
        if self.take.val() {
            self.a_valid.d.next = self.b_valid.q.val();
            self.a_value.d.next = self.b_value.q.val();
            self.b_valid.d.next = false;
            if self.ram_valid.q.val() {
                if self.b_valid.q.val() {
                    self.b_valid.d.next = true;
                    self.b_value.d.next = self.ram.read_data.val();
                } else {
                    self.a_valid.d.next = true;
                    self.a_value.d.next = self.ram.read_data.val();
                }
            }
        } else if self.ram_valid.q.val() {
            if self.a_valid.q.val() {
                self.b_valid.d.next = true;
                self.b_value.d.next = self.ram.read_data.val();
            } else {
                self.a_valid.d.next = true;
                self.a_value.d.next = self.ram.read_data.val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_sum_fifo_is_synthesizable() {
        let mut uut = SegmentSumFifo::<6, 7>::default();
        uut.connect_all();
        yosys_validate("segment_sum_fifo", &generate_verilog(&uut)).unwrap();
    }
}
